# cimflow: validate and solve distribution-grid CIM files.
# Build: docker build -t cimflow .   Run on your files: docker run --rm -v "$PWD:/data" cimflow validate /data/feeder.xml
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /opt/cimflow
# lxml, numpy and scipy ship manylinux wheels; gcc builds cimflow's native parts (cimflow/cim/_rdfscan.c and
# cimflow/_records.c) and leaves the image in the same layer (without them cimflow still works, slower);
# cimflow's bytecode is compiled here, since PYTHONDONTWRITEBYTECODE would otherwise compile it again on
# every command
COPY pyproject.toml setup.py README.md LICENSE ./
COPY cimflow ./cimflow
COPY samples ./samples
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && python3 -m pip install -e . \
    && python3 -c "from cimflow.cim import _rdfscan; from cimflow import _records" \
    && python3 -m compileall -q cimflow \
    && apt-get purge -y --auto-remove gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/* build \
    && useradd --create-home --uid 10001 cimflow \
    && chown cimflow /opt/cimflow
USER cimflow

# The README's main job on the bundled sample; pass your own command and paths to override it.
ENTRYPOINT []
CMD ["sh", "-c", "cimflow validate samples/simbench-lv-urban6 && cimflow solve samples/simbench-lv-urban6 --report --out cimflow-out --force"]
