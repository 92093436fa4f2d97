# snnhw: clock of ${top}: ${clock_mhz} MHz (${period_ps} ps; asap7 time unit is ps)
current_design ${top}
set clk_name clk
set clk_port_name clk
set clk_period ${period_ps}
set clk_port [get_ports $$clk_port_name]
create_clock -name $$clk_name -period $$clk_period $$clk_port
set non_clock_inputs [all_inputs -no_clocks]
set_input_delay [expr $$clk_period * 0.2] -clock $$clk_name $$non_clock_inputs
set_output_delay [expr $$clk_period * 0.2] -clock $$clk_name [all_outputs]
