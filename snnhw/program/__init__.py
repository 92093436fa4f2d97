"""Programming a loadable design: what fits it (:mod:`.capacity`) and its load images (:mod:`.image`).

A loadable design (``snnhw generate --loadable``) is generated once for a *capacity*: its network's
shape. Any network that fits (:func:`check_fits`) runs on it after a load: :func:`embed` pads the
network to the capacity's shape (zero weights and biases for the missing neurons and inputs, which
never fire, so every event, score and prediction is the network's own), and :func:`load_frames`
turns that into the configuration frames of :mod:`snnhw.rtl.loader`.
"""

from snnhw.program.capacity import capacity_network, check_fits, embed, pad_inputs
from snnhw.program.design import Hardware, load_hardware
from snnhw.program.image import boot_frames, load_frames, memory_images, read_image, write_image

__all__ = ["Hardware", "boot_frames", "capacity_network", "check_fits", "embed", "load_frames", "load_hardware", "memory_images",
           "pad_inputs", "read_image", "write_image"]
