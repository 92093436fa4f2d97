# snnhw: place and route of the mapped ASAP7 netlist with OpenROAD (run by snnhw.layout).
# Settings come from config.tcl beside this script (ORFS variable names, as ::env(...)); the
# macro placement from macros.tcl. Each step prints "SNNHW_STEP <name> <seconds>"; figures print
# as "SNNHW_METRIC <key> <value>". The flow stops after the step named in ::env(UNTIL).
source [file join [file dirname [info script]] config.tcl]
set ::snnhw_t0 [clock milliseconds]
proc snnhw_step {name body} {
  set t [clock milliseconds]
  uplevel 1 $body
  puts "SNNHW_STEP $name [expr {([clock milliseconds] - $t) / 1000.0}]"
  flush stdout
  if {$name eq $::env(UNTIL)} {
    snnhw_finish $name
    return -code return
  }
}
proc snnhw_metric {key value} { puts "SNNHW_METRIC $key $value" }

proc snnhw_unrouted {} {
  # Signal and clock nets with two or more pins and no routed wire.
  set n 0
  foreach net [[ord::get_db_block] getNets] {
    set type [$net getSigType]
    if {$type ne "SIGNAL" && $type ne "CLOCK"} { continue }
    if {[llength [$net getITerms]] + [llength [$net getBTerms]] < 2} { continue }
    if {[$net getWire] eq "NULL"} { incr n }
  }
  return $n
}

proc snnhw_finish {stage} {
  set block [ord::get_db_block]
  snnhw_metric stage $stage
  write_db $::env(RESULTS_DIR)/$stage.odb
  write_def $::env(RESULTS_DIR)/$stage.def
  snnhw_metric odb $::env(RESULTS_DIR)/$stage.odb
  snnhw_metric def $::env(RESULTS_DIR)/$stage.def
  if {$stage eq "detailed_route" || $stage eq "global_route"} {
    write_verilog -remove_cells {TAPCELL* FILLER* DECAP*} $::env(RESULTS_DIR)/$::env(DESIGN_NAME)_routed.v
    snnhw_metric netlist $::env(RESULTS_DIR)/$::env(DESIGN_NAME)_routed.v
  }
  set die [$block getDieArea]
  set core [$block getCoreArea]
  set dbu [$block getDbUnitsPerMicron]
  snnhw_metric die_area_um2 [expr {double([$die dx]) * [$die dy] / $dbu / $dbu}]
  snnhw_metric die_width_um [expr {double([$die dx]) / $dbu}]
  snnhw_metric die_height_um [expr {double([$die dy]) / $dbu}]
  snnhw_metric core_area_um2 [expr {double([$core dx]) * [$core dy] / $dbu / $dbu}]
  set std 0.0; set macro 0.0; set inst 0; set buf 0; set clkbuf 0; set fill 0
  foreach i [$block getInsts] {
    set m [$i getMaster]
    set a [expr {double([$m getWidth]) * [$m getHeight] / $dbu / $dbu}]
    set name [$m getName]
    if {[string match "FILLER*" $name] || [string match "DECAP*" $name] || [string match "TAPCELL*" $name]} {
      incr fill; continue
    }
    incr inst
    if {[$m isBlock]} { set macro [expr {$macro + $a}] } else { set std [expr {$std + $a}] }
    if {[string match "BUF*" $name] || [string match "HB*" $name]} { incr buf }
    if {[string match "clkbuf*" [$i getName]] || [string match "clkload*" [$i getName]]} { incr clkbuf }
  }
  snnhw_metric instances $inst
  snnhw_metric buffers $buf
  snnhw_metric clock_buffers $clkbuf
  snnhw_metric physical_cells $fill
  snnhw_metric stdcell_area_um2 $std
  snnhw_metric macro_area_um2 $macro
  snnhw_metric core_utilization [expr {($std + $macro) / (double([$core dx]) * [$core dy] / $dbu / $dbu)}]
  if {$stage eq "detailed_route"} {
    snnhw_metric unrouted_nets [snnhw_unrouted]
  }
  snnhw_metric total_s [expr {([clock milliseconds] - $::snnhw_t0) / 1000.0}]
}

snnhw_step read {
  set_thread_count $::env(NUM_CORES)
  read_lef $::env(TECH_LEF)
  read_lef $::env(SC_LEF)
  read_lef $::env(MACRO_LEF)
  # Two corners while placing and routing: setup is met at TT (the first corner, the one the clock
  # was chosen for), hold is repaired at TT and FF (hold is worst at the fast corner).
  define_corners {*}$::env(FLOW_CORNERS)
  foreach corner $::env(FLOW_CORNERS) {
    foreach lib $::env(LIB_FILES_$corner) { read_liberty -corner $corner $lib }
    read_liberty -corner $corner $::env(MACRO_LIB_$corner)
  }
  read_verilog $::env(NETLIST)
  link_design $::env(DESIGN_NAME)
  read_sdc $::env(SDC_FILE)
  source $::env(SET_RC_TCL)
  set_dont_use $::env(DONT_USE_CELLS)
}

snnhw_step floorplan {
  initialize_floorplan -site $::env(PLACE_SITE) -die_area $::env(DIE_AREA) -core_area $::env(CORE_AREA)
  source $::env(MAKE_TRACKS)
  # Tie cells: one per load cluster, not one for the whole design (ORFS's floorplan step).
  repair_tie_fanout -separation $::env(TIE_SEPARATION) [lindex $::env(TIELO_CELL_AND_PORT) 0]/[lindex $::env(TIELO_CELL_AND_PORT) 1]
  repair_tie_fanout -separation $::env(TIE_SEPARATION) [lindex $::env(TIEHI_CELL_AND_PORT) 0]/[lindex $::env(TIEHI_CELL_AND_PORT) 1]
}

snnhw_step macro_place {
  source $::env(MACRO_PLACEMENT_TCL)
}

snnhw_step tapcell {
  source $::env(TAPCELL_TCL)
}

snnhw_step pdn {
  source $::env(PDN_TCL)
  pdngen
}

snnhw_step io_placement {
  place_pins -hor_layers $::env(IO_PLACER_H) -ver_layers $::env(IO_PLACER_V)
}

snnhw_step global_place {
  global_placement -density $::env(PLACE_DENSITY) -pad_left $::env(CELL_PAD_IN_SITES_GLOBAL_PLACEMENT) \
    -pad_right $::env(CELL_PAD_IN_SITES_GLOBAL_PLACEMENT)
}

snnhw_step resize {
  estimate_parasitics -placement
  repair_design
}

snnhw_step detailed_place {
  set_placement_padding -global -left $::env(CELL_PAD_IN_SITES_DETAIL_PLACEMENT) -right $::env(CELL_PAD_IN_SITES_DETAIL_PLACEMENT)
  detailed_placement
  optimize_mirroring
  check_placement -verbose
}

snnhw_step cts {
  clock_tree_synthesis -root_buf $::env(CTS_BUF_CELL) -buf_list $::env(CTS_BUF_CELL) -sink_clustering_enable \
    -balance_levels
  set_propagated_clock [all_clocks]
  estimate_parasitics -placement
  repair_clock_nets
  detailed_placement
  estimate_parasitics -placement
  repair_timing -setup -skip_pin_swap
  repair_timing -hold -hold_margin $::env(HOLD_SLACK_MARGIN)
  detailed_placement
  check_placement -verbose
  report_clock_skew
}

snnhw_step global_route {
  source $::env(FASTROUTE_TCL)
  global_route -congestion_iterations 30 -congestion_report_file $::env(REPORTS_DIR)/congestion.rpt -allow_congestion
  # Repair again with global-routing parasitics (ORFS's incremental repair after global routing):
  # design rules, then setup and hold, each followed by legalisation and an incremental reroute.
  estimate_parasitics -global_routing
  repair_design
  global_route -start_incremental
  detailed_placement
  global_route -end_incremental -congestion_report_file $::env(REPORTS_DIR)/congestion_post_repair_design.rpt
  estimate_parasitics -global_routing
  repair_timing -setup -skip_pin_swap
  repair_timing -hold -hold_margin $::env(HOLD_SLACK_MARGIN)
  global_route -start_incremental
  detailed_placement
  global_route -end_incremental -congestion_report_file $::env(REPORTS_DIR)/congestion_post_repair_timing.rpt
  estimate_parasitics -global_routing
  foreach corner $::env(FLOW_CORNERS) {
    set c [sta::find_corner $corner]
    snnhw_metric global_route_setup_ws_ps_$corner [expr {[sta::worst_slack_corner $c max] * 1e12}]
    snnhw_metric global_route_hold_ws_ps_$corner [expr {[sta::worst_slack_corner $c min] * 1e12}]
  }
}

snnhw_step detailed_route {
  # Routing layers: set_routing_layers of FASTROUTE_TCL (MIN_ROUTING_LAYER .. MAX_ROUTING_LAYER).
  detailed_route -output_drc $::env(REPORTS_DIR)/drc.rpt -verbose 1
  snnhw_metric drc_violations [detailed_route_num_drvs]
}

snnhw_step fillers {
  filler_placement $::env(FILL_CELLS)
  check_placement
}

snnhw_step extraction {
  extract_parasitics -ext_model_file $::env(RCX_RULES)
  write_spef $::env(RESULTS_DIR)/$::env(DESIGN_NAME).spef
  snnhw_metric spef $::env(RESULTS_DIR)/$::env(DESIGN_NAME).spef
}

snnhw_finish detailed_route
