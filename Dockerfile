# cimflow: validate and solve distribution-grid CIM files.
# Build: docker build -t cimflow .   Run on your files: docker run --rm -v "$PWD:/data" cimflow validate /data/feeder.xml
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/cimflow
# lxml, numpy and scipy ship manylinux wheels: no compiler is needed
COPY pyproject.toml README.md LICENSE ./
COPY cimflow ./cimflow
COPY samples ./samples
RUN python3 -m pip install -e . \
    && useradd --create-home --uid 10001 cimflow \
    && chown cimflow /opt/cimflow
USER cimflow

# The README's main job on the bundled sample; pass your own command and paths to override it.
ENTRYPOINT []
CMD ["sh", "-c", "cimflow validate samples/simbench-lv-urban6 && cimflow solve samples/simbench-lv-urban6 --report --out cimflow-out --force"]
