"""Upload benchmarks: throughput through the gRPC service into each object store, against
writing the same bytes straight to that store, and the service's memory during a 1 GiB upload.

The service runs in its own process (bench.service_process), as in production, so
client and server do not share a GIL and its memory can be sampled. What is timed:

- baseline: `store.put` of the CSV from 1 MiB chunks, in this process.
- UploadFile / resumable: the whole call, from the first request until the File comes
  back. It includes the service's completion step, which reads the object back from the
  store, checksums it and profiles the CSV (the resumable flow first assembles its parts).
- sent: until the client has handed gRPC its last chunk (UploadFile) or its last
  WriteUploadChunk returned (resumable); the rest of the call is the completion. gRPC
  flow control lets an UploadFile client run some MiB ahead of the service, so there
  "sent" is a lower bound on the transfer time.
- checksum + profile alone: store.read + SHA-256 + profile_csv on the stored object, timed
  in this process after the call, to tell how much of the completion that step is.
- The resumable client sends 5 MiB chunks, as `tsforge upload` does (a whole S3 part
  each); the UploadFile client and the baseline put 1 MiB ones.
- The resumable client computes the SHA-256 while it sends (the CLI hashes the file in a
  pass of its own before sending; that client-side pass is not counted).
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from bench.csv_data import CHUNK_BYTES, csv_chunks, csv_size, write_csv
from bench.harness import StoreSpec, service_process, tenant_metadata
from tsforge.client.uploads import CHUNK_BYTES as CLI_CHUNK_BYTES
from tsforge.common.v1 import common_pb2
from tsforge.core.channels import client_channel
from tsforge.core.storage import ObjectStore
from tsforge.tabular.profiling import profile_csv
from tsforge.upload.v1 import upload_service_pb2 as pb
from tsforge.upload.v1 import upload_service_pb2_grpc as pb_grpc

TENANT = "bench"
RSS_SAMPLE_INTERVAL_S = 0.05
_CALL_TIMEOUT_S = 1800
_WARM_UP_BYTES = 1 << 20


@dataclass(frozen=True)
class UploadTiming:
    """One flow into one store: the whole call, its completion step, and the baseline put."""

    store: str  # "local" or "s3"
    flow: str  # "UploadFile" or "resumable"
    size_bytes: int
    call_s: float
    sent_s: float
    checksum_profile_s: float
    baseline_put_s: float


@dataclass(frozen=True)
class RssGrowth:
    """The server process's resident memory around one streaming upload."""

    size_bytes: int
    call_s: float
    sent_s: float
    rss_before: int
    rss_peak_sampled: int
    rss_peak_while_sending: int
    rss_peak_kernel: int | None  # VmHWM after resetting it before the upload; None where unsupported
    samples: int

    @property
    def rss_peak(self) -> int:
        return max(self.rss_peak_sampled, self.rss_peak_kernel or 0)

    @property
    def growth(self) -> int:
        return self.rss_peak - self.rss_before


def upload_throughput(database_url: str, spec: StoreSpec, size_bytes: int, folder: Path) -> list[UploadTiming]:
    """Upload a `size_bytes` CSV with both flows into the store `spec`; time each against store.put."""
    source = folder / f"upload-{spec.kind}.csv"
    size = write_csv(source, size_bytes)
    store = spec.open()
    baseline_key = f"bench/baseline-{uuid.uuid4().hex}"
    started = time.perf_counter()
    store.put(baseline_key, _file_chunks(source))
    baseline_s = time.perf_counter() - started
    store.delete(baseline_key)

    timings = []
    with (
        service_process(database_url, spec, folder / f"server-{spec.kind}.log") as server,
        client_channel(server.address) as channel,
    ):
        stub = pb_grpc.UploadServiceStub(channel)
        for flow, upload, chunk_bytes in (
            ("UploadFile", upload_streaming, CHUNK_BYTES),
            ("resumable", upload_resumable, CLI_CHUNK_BYTES),
        ):
            upload(stub, csv_chunks(_WARM_UP_BYTES), csv_size(_WARM_UP_BYTES))  # connections, pools, caches
            started = time.perf_counter()
            file, sent = upload(stub, _file_chunks(source, chunk_bytes), size)
            call_s = time.perf_counter() - started
            key = object_key(file)
            checksum_profile_s = time_checksum_and_profile(store, key)
            store.delete(key)
            timings.append(UploadTiming(spec.kind, flow, size, call_s, sent - started, checksum_profile_s, baseline_s))
    return timings


def rss_growth(database_url: str, folder: Path, size_bytes: int) -> RssGrowth:
    """Stream a generated `size_bytes` CSV into a local-store server process while sampling its RSS."""
    spec = StoreSpec(local_root=folder / "objects-rss")
    with (
        service_process(database_url, spec, folder / "server-rss.log") as server,
        client_channel(server.address) as channel,
    ):
        stub = pb_grpc.UploadServiceStub(channel)
        process = psutil.Process(server.pid)
        upload_streaming(stub, csv_chunks(_WARM_UP_BYTES), csv_size(_WARM_UP_BYTES))
        rss_before = process.memory_info().rss
        kernel_peak_reset = _reset_peak_rss(server.pid)
        with _RssSampler(process) as sampler:
            started = time.perf_counter()
            file, sent = upload_streaming(stub, csv_chunks(size_bytes), csv_size(size_bytes))
            call_s = time.perf_counter() - started
        kernel_peak = _peak_rss(server.pid) if kernel_peak_reset else None
        spec.open().delete(object_key(file))
    return RssGrowth(
        file.size_bytes,
        call_s,
        sent - started,
        rss_before,
        sampler.peak,
        sampler.peak_until(sent),
        kernel_peak,
        len(sampler.samples),
    )


def upload_streaming(stub: pb_grpc.UploadServiceStub, chunks: Iterable[bytes], size: int) -> tuple[pb.File, float]:
    """The single-call flow: UploadFile with the metadata, then one message per chunk.

    Returns the File and the perf_counter() time gRPC took the last chunk.
    """
    sent = 0.0

    def requests() -> Iterator[pb.UploadFileRequest]:
        nonlocal sent
        yield pb.UploadFileRequest(
            metadata=pb.UploadFileMetadata(
                file_name="load.csv", role=common_pb2.FEATURE_ROLE_INPUT, declared_size_bytes=size
            )
        )
        for chunk in chunks:
            yield pb.UploadFileRequest(chunk=chunk)
        sent = time.perf_counter()

    file = stub.UploadFile(requests(), metadata=tenant_metadata(TENANT), timeout=_CALL_TIMEOUT_S).file
    return file, sent


def upload_resumable(stub: pb_grpc.UploadServiceStub, chunks: Iterable[bytes], size: int) -> tuple[pb.File, float]:
    """The resumable flow: CreateUpload, one WriteUploadChunk per chunk, CompleteUpload.

    Returns the File and the perf_counter() time the last WriteUploadChunk returned.
    """
    metadata = tenant_metadata(TENANT)
    upload = stub.CreateUpload(
        pb.CreateUploadRequest(
            upload=pb.Upload(file_name="load.csv", role=common_pb2.FEATURE_ROLE_INPUT, declared_size_bytes=size)
        ),
        metadata=metadata,
    ).upload
    digest = hashlib.sha256()
    offset = 0
    for chunk in chunks:
        stub.WriteUploadChunk(
            pb.WriteUploadChunkRequest(name=upload.name, offset=offset, data=chunk),
            metadata=metadata,
            timeout=_CALL_TIMEOUT_S,
        )
        digest.update(chunk)
        offset += len(chunk)
    sent = time.perf_counter()
    file = stub.CompleteUpload(
        pb.CompleteUploadRequest(name=upload.name, sha256=digest.hexdigest()),
        metadata=metadata,
        timeout=_CALL_TIMEOUT_S,
    ).file
    return file, sent


def time_checksum_and_profile(store: ObjectStore, key: str) -> float:
    """Seconds the service's completion step takes on `key`: read it back, SHA-256 it, profile it."""
    started = time.perf_counter()
    digest = hashlib.sha256()

    def hashed() -> Iterator[bytes]:
        for chunk in store.read(key):
            digest.update(chunk)
            yield chunk

    stream = hashed()
    profile_csv(stream)
    for _ in stream:
        pass
    digest.hexdigest()
    return time.perf_counter() - started


def object_key(file: pb.File) -> str:
    """Where the upload service keeps a File's bytes (services.upload.uploads)."""
    return f"files/{TENANT}/{file.name.removeprefix('files/')}"


def _file_chunks(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(chunk_bytes):
            yield chunk


def _reset_peak_rss(pid: int) -> bool:
    # Linux: writing 5 to clear_refs resets VmHWM, so it then reports the peak since now.
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _peak_rss(pid: int) -> int | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


class _RssSampler:
    """Samples a process's RSS every RSS_SAMPLE_INTERVAL_S in a thread while the block runs."""

    def __init__(self, process: psutil.Process) -> None:
        self._process = process
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self.samples: list[tuple[float, int]] = []  # (perf_counter(), rss)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak(self) -> int:
        return max(rss for _, rss in self.samples)

    def peak_until(self, moment: float) -> int:
        """The highest sample taken up to perf_counter() time `moment`."""
        return max((rss for taken, rss in self.samples if taken <= moment), default=0)

    def _sample(self) -> None:
        while True:
            self.samples.append((time.perf_counter(), self._process.memory_info().rss))
            if self._stop.wait(RSS_SAMPLE_INTERVAL_S):
                return
