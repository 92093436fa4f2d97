# snnhw: clock of ${top} at ${clock_mhz} MHz
create_clock -period ${period_ns} -name clk [get_ports clk]
