# snnhw: OpenROAD-flow-scripts design configuration for ${top}
# network '${network}' (sha256 ${network_hash}), build sha256 ${build_hash}
# Run: make -C $$FLOW_HOME DESIGN_CONFIG=${config} WORK_HOME=${work_home}
export DESIGN_NAME = ${top}
export DESIGN_NICKNAME = ${nickname}
export PLATFORM = asap7
export VERILOG_FILES = ${verilog}
export SDC_FILE = ${sdc}
# Floorplan and placement.
export CORE_UTILIZATION = ${utilization}
export PLACE_DENSITY = ${density}
# Library corner: BC = FF (the ORFS asap7 default), TC = TT.
export CORNER = ${orfs_corner}
# Memories: ORFS's Yosys maps every memory to flip-flops (fakeram7 has no two-port macros); allow the largest one.
export SYNTH_MEMORY_MAX_BITS = ${memory_max_bits}
export ABC_AREA = 0
