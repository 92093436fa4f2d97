# snnhw: constraints of ${top} for place and route and sign-off (ORFS's asap7 kind; time unit ps).
# Clock: ${clock_mhz} MHz. Uncertainty and input/output delays are fractions of the period.
# The uncertainty (jitter and margin) applies to setup: launch and capture of a hold check are the
# same edge, so jitter cancels; the hold margin is the flow's HOLD_SLACK_MARGIN.
current_design ${top}
set clk_name clk
set clk_period ${period_ps}
create_clock -name $$clk_name -period $$clk_period [get_ports clk]
set_clock_uncertainty -setup [expr {$$clk_period * ${uncertainty}}] [get_clocks $$clk_name]
set non_clock_inputs [all_inputs -no_clocks]
set_input_delay [expr {$$clk_period * ${io_fraction}}] -clock $$clk_name $$non_clock_inputs
set_output_delay [expr {$$clk_period * ${io_fraction}}] -clock $$clk_name [all_outputs]
# Slew and load checks: the library's own limits (default_max_transition 320 ps), stated here.
set_max_transition ${max_transition_ps} [current_design]
set_load ${output_load_ff} [all_outputs]
