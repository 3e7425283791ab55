"""Put off loading a module until one of its attributes is used.

espnet2 imports g2p_en and tacotron_cleaner when it starts (English phoneme
tokenizers and text cleaners, which these recipes do not use). Both import
inflect (slow: bench/README.md), and g2p_en asks nltk at import to download its data from the
internet: on an offline cluster node that fails or waits for a time-out, in
every training and decoding job.

    from local.runtime.deferred_import import defer
    defer("g2p_en")          # before importing espnet2
    import espnet2...        # `import g2p_en` now gives a stand-in

The stand-in carries the module's spec and file (so that importlib.util.find_spec,
inspect and transformers' availability checks see the installed package without
loading it) and loads the real module the first time any other attribute is
asked for (`g2p_en.G2p`), then forwards to it. importlib.util.LazyLoader does not
do here: inspect.getmodule() reads `__file__` of every module in sys.modules,
which makes a LazyLoader module load at once.
"""

import importlib
import importlib.util
import sys
import types


class DeferredModule(types.ModuleType):
    """Stands in sys.modules for a module not loaded yet."""

    def __getattr__(self, name):  # only called for attributes the stand-in lacks
        real = self.__dict__.get("_deferred_real")
        if real is None:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]  # let the import system load the real one
            real = importlib.import_module(self.__name__)
            self._deferred_real = real
        return getattr(real, name)


def defer(name):
    """Put a stand-in for module `name` in sys.modules, unless it is loaded already
    or not installed (then importing it fails as usual). A submodule's packages
    are deferred too: `import a.b` loads a's __init__, which may import a.b."""
    if name in sys.modules:
        return
    parent, _, child = name.rpartition(".")
    if parent:
        defer(parent)
    spec = importlib.util.find_spec(name)  # finds a submodule through the stand-in's __path__
    if spec is None:
        return
    stand_in = DeferredModule(name)
    stand_in.__spec__, stand_in.__loader__, stand_in.__file__ = spec, spec.loader, spec.origin
    if spec.submodule_search_locations is not None:
        stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules[name] = stand_in
    if parent:  # `import a.b` binds a.b only when it loads b
        setattr(sys.modules[parent], child, stand_in)
