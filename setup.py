"""Build cimflow's optional native reader (cimflow/cim/_rdfscan.c); everything else is in pyproject.toml.

The extension is optional: without a C compiler the install still succeeds and cimflow reads every
document with lxml (the same results, slower).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "cimflow.cim._rdfscan",
            sources=["cimflow/cim/_rdfscan.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
