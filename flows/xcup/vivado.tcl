# snnhw: Vivado non-project flow for ${top} on ${part} at ${clock_mhz} MHz.
# Run from this directory: vivado -mode batch -source vivado.tcl
set here [file dirname [file normalize [info script]]]
set part ${part}
read_verilog [file join $$here ${top}.v]
read_xdc -mode out_of_context [file join $$here ${top}.xdc]
synth_design -top ${top} -part $$part -mode out_of_context
report_utilization -file [file join $$here vivado_synth_utilization.rpt]
opt_design
place_design
phys_opt_design
route_design
report_utilization -file [file join $$here vivado_utilization.rpt]
report_timing_summary -max_paths 10 -file [file join $$here vivado_timing.rpt]
write_checkpoint -force [file join $$here ${top}_routed.dcp]
