"""Co-simulation of the generated Verilog (installed as ``snnhw.sim``).

============  =================================================================
module        content
============  =================================================================
``records``   hardware records (tap words, result beats, cycles) → trace
``tb``        cocotb stream driver, stream monitors and the testbench class
``bench``     the cocotb test that ``snnhw run --engine verilator|icarus`` runs
``runner``    building and running a simulator through ``cocotb_tools.runner``
============  =================================================================
"""
