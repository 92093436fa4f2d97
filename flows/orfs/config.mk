# snnhw: OpenROAD-flow-scripts design configuration for ${top}
# network '${network}' (sha256 ${network_hash}), build sha256 ${build_hash}
# Run: make -C $$FLOW_HOME DESIGN_CONFIG=${config} WORK_HOME=${work_home}
export DESIGN_NAME = ${top}
export DESIGN_NICKNAME = ${nickname}
export PLATFORM = asap7
# The netlist snnhw mapped and timed (ASAP7 cells, SRAM tiles as macro instances): ORFS skips its
# own synthesis, so the memories stay macros.
export VERILOG_FILES = ${verilog}
export SYNTH_NETLIST_FILES = $$(VERILOG_FILES)
# The same constraints as snnhw synth --layout (layout/constraint.sdc).
export SDC_FILE = ${sdc}
# The SRAM tiles: abstracts (pins on M4, obstructions M1-M4) and timing models written by snnhw.
export ADDITIONAL_LEFS = ${macro_lef}
export ADDITIONAL_LIBS = ${macro_lib}
# Floorplan and placement (snnhw synth --layout's defaults).
export CORE_UTILIZATION = ${utilization}
export PLACE_DENSITY = ${density}
export MACRO_PLACE_HALO = ${halo} ${halo}
export HOLD_SLACK_MARGIN = ${hold_margin}
# Library corner: BC = FF (the ORFS asap7 default), TC = TT.
export CORNER = ${orfs_corner}
