"""Build cimflow's optional native parts: the reader (cimflow/cim/_rdfscan.c) and the record constructors
(cimflow/_records.c); everything else is in pyproject.toml.

Both are optional: without a C compiler the install still succeeds, cimflow reads every document with lxml
and makes its records with the classes themselves (the same results, slower).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "cimflow.cim._rdfscan",
            sources=["cimflow/cim/_rdfscan.c"],
            optional=True,
            extra_compile_args=["-O2"],
        ),
        Extension(
            "cimflow._records",
            sources=["cimflow/_records.c"],
            optional=True,
            extra_compile_args=["-O2"],
        ),
    ]
)
