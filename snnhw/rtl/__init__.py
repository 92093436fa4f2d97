"""The RTL generator: Amaranth components of the differential-time LIF accelerator.

=================  ==============================================================
module             content
=================  ==============================================================
``build``          the build configuration and its resolver
``stream``         spike-stream layouts and signatures
``lif``            combinational ``sat``, ``leak`` and ``fire``
``serializer``     rows of a pass → one token per cycle
``encoder``        the encoder core (sparse currents, T steps)
``dense``          the dense LIF layer core
``merge``          spike-merge units (2-way, k-way tree) and the tick filter
``fork``           broadcast of a stream to the cores of a layer
``fifo``           stream FIFO between layers
``readout``        scores, prediction and the result stream
``top``            the accelerator top with AXI4-Stream ports
``generate``       Verilog, memory images, ``metadata.json`` and the cycle model
=================  ==============================================================
"""
