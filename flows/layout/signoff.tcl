# snnhw: post-route sign-off of a layout run: setup and hold at SS, TT and FF with the extracted
# parasitics, the limiting path, slew and load checks, clock skew, and power at TT with OpenSTA's
# default activity (snnhw power gives it from simulated activity). Settings: config.tcl, then
# signoff_config.tcl (the database, the SPEF and the power report's name).
source [file join [file dirname [info script]] config.tcl]
source [file join [file dirname [info script]] signoff_config.tcl]
proc snnhw_metric {key value} { puts "SNNHW_METRIC $key $value" }
set corners {SS TT FF}
define_corners {*}$corners
foreach corner $corners {
  foreach lib $::env(LIB_FILES_$corner) { read_liberty -corner $corner $lib }
  read_liberty -corner $corner $::env(MACRO_LIB_$corner)
}
read_db $::env(SIGNOFF_ODB)
read_sdc $::env(SDC_FILE)
set_propagated_clock [all_clocks]
if {$::env(SIGNOFF_SPEF) ne ""} {
  foreach corner $corners { read_spef -corner $corner $::env(SIGNOFF_SPEF) }
  snnhw_metric parasitics spef
} else {
  source $::env(SET_RC_TCL)
  estimate_parasitics -placement
  snnhw_metric parasitics placement_estimate
}
foreach corner $corners {
  set c [sta::find_corner $corner]
  snnhw_metric setup_ws_ps_$corner [expr {[sta::worst_slack_corner $c max] * 1e12}]
  snnhw_metric hold_ws_ps_$corner [expr {[sta::worst_slack_corner $c min] * 1e12}]
  snnhw_metric setup_tns_ps_$corner [expr {[sta::total_negative_slack_corner_cmd $c max] * 1e12}]
}
# Register to register (the core's own clock): input and output paths carry the block's I/O budget
# (delays relative to the ideal clock at the port), which a long clock tree eats into.
foreach corner $corners {
  foreach {kind key} {max setup min hold} {
    set ends [find_timing_paths -path_delay $kind -from [all_registers] -to [all_registers] -corner $corner \
      -group_path_count 1]
    if {[llength $ends]} { snnhw_metric ${key}_ws_ps_reg2reg_$corner [expr {[[lindex $ends 0] slack] * 1e12}] }
  }
}
# Reports go to files (OpenSTA's "> file"): its report stream and Tcl's stdout are buffered apart.
set reports $::env(REPORTS_DIR)
foreach corner $corners {
  report_checks -path_delay max -corner $corner -format full_clock_expanded -fields {fanout cap slew} -digits 1 \
    > $reports/signoff_setup_$corner.rpt
  report_checks -path_delay min -corner $corner -format full_clock_expanded -digits 1 > $reports/signoff_hold_$corner.rpt
}
report_check_types -max_slew -max_capacitance -violators > $reports/signoff_checks.rpt
snnhw_metric max_slew_violations [sta::max_slew_violation_count]
snnhw_metric max_cap_violations [sta::max_capacitance_violation_count]
report_clock_skew -corner TT > $reports/signoff_skew.rpt
snnhw_metric activity default
report_power -corner TT -digits 6 > $reports/$::env(POWER_REPORT)
