"""Boards: the accelerator behind a UART with a framed host protocol, bitstreams and a host runtime.

=============  =====================================================================
module         content
=============  =====================================================================
``protocol``   frames, CRC and payload layouts (the host's side; ``docs/boards.md``)
``uart``       8N1 UART receiver and transmitter with stream interfaces (Amaranth)
``hostif``     the board's side of the protocol: parser, sample and result slots, frames
``core``       UART + host interface + accelerator: all but the clock and I/O buffers
``build``      ``snnhw board build``: bitstreams (ECP5) and Vivado projects (UltraScale+)
``runtime``    ``snnhw board run``: the host runtime over a serial port or the simulator
``simlink``    the board core in Verilator through cocotb, behind a pseudo-terminal
=============  =====================================================================

Board definitions (platforms, clocking, pins) live in the top-level ``boards/`` folder,
shipped as :mod:`snnhw.boards`.
"""
