# snnhw: OpenSTA (2.7, in OpenROAD) power of a netlist under simulated activity (SAIF), at one corner.
# Settings come from power_config.tcl beside this script: the netlist (NETLIST, or the routed ODB),
# the liberty files, the LEF files a netlist is linked with (technology, cells, macros), the SPEF
# (optional), a pin-level SAIF (snnhw.power.opensta.pin_saif) with its top instance, and the clock
# of the simulation (the SAIF's own clock, so that every net's activity and the clock's agree).
source [file join [file dirname [info script]] power_config.tcl]
foreach lib $::env(LIB_FILES) { read_liberty $lib }
read_liberty $::env(MACRO_LIB)
if {$::env(ODB) ne ""} {
  read_db $::env(ODB)
} else {
  foreach lef $::env(LEF_FILES) { read_lef $lef }
  read_verilog $::env(NETLIST)
  link_design $::env(DESIGN_NAME)
}
create_clock -name clk -period $::env(SIM_PERIOD_PS) [get_ports clk]
if {$::env(SPEF) ne ""} {
  read_spef $::env(SPEF)
  set_propagated_clock [all_clocks]
}
read_saif -scope $::env(SAIF_SCOPE) $::env(SAIF)
report_activity_annotation > $::env(ACTIVITY_REPORT)
report_power -digits 9 > $::env(POWER_REPORT)
puts "SNNHW_POWER_DONE"
