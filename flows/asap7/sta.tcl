# snnhw: OpenSTA setup timing of ${top} at ${period_ps} ps (corner ${corner}; ideal clock, no wire load:
# gate delays only, an optimistic pre-layout figure).
${read_libs}
read_liberty macros.lib
read_verilog ${top}_asap7.v
link_design ${top}
create_clock -name clk -period ${period_ps} [get_ports clk]
set_input_delay 0 -clock clk [delete_from_list [all_inputs] [get_ports clk]]
set_output_delay 0 -clock clk [all_outputs]
report_checks -path_delay max -digits 2 -fields {fanout}
puts "SNNHW_WNS [sta::worst_slack -max]"
puts "SNNHW_TNS [sta::total_negative_slack -max]"
