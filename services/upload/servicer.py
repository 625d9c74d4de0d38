"""UploadService over gRPC: messages in, domain calls, messages out. Nothing else."""

from __future__ import annotations

import math
from datetime import UTC

from services.upload.domain import NewUpload, Role, StoredFile, Upload, UploadState
from services.upload.files import Files
from services.upload.uploads import Uploads
from tsforge.core import context
from tsforge.core.api_keys import ApiKey, ApiKeys
from tsforge.core.errors import FieldViolation, InvalidArgument
from tsforge.core.names import parse_name
from tsforge.core.timestamps import duration, timestamp
from tsforge.tabular.profiling import FileProfile
from tsforge.upload.v1 import api_keys_pb2 as keys_pb
from tsforge.upload.v1 import upload_service_pb2 as pb
from tsforge.upload.v1 import upload_service_pb2_grpc as pb_grpc


class UploadServicer(pb_grpc.UploadServiceServicer):
    def __init__(self, uploads: Uploads, files: Files, api_keys: ApiKeys):
        self._uploads = uploads
        self._files = files
        self._api_keys = api_keys

    def CreateUpload(self, request, _context):
        u = request.upload
        upload = self._uploads.create(
            context.tenant(),
            NewUpload(
                file_name=u.file_name,
                role=u.role,
                display_name=u.display_name,
                description=u.description,
                declared_size_bytes=u.declared_size_bytes,
                declared_sha256=u.declared_sha256,
            ),
        )
        return pb.CreateUploadResponse(upload=self._upload(upload))

    def GetUpload(self, request, _context):
        upload = self._uploads.get(context.tenant(), parse_name(request.name, "uploads"))
        return pb.GetUploadResponse(upload=self._upload(upload))

    def ListUploads(self, request, _context):
        page = self._uploads.list(context.tenant(), request.page_size, request.page_token)
        return pb.ListUploadsResponse(
            uploads=[self._upload(u) for u in page.items], next_page_token=page.next_page_token
        )

    def WriteUploadChunk(self, request, _context):
        upload = self._uploads.write_chunk(
            context.tenant(), parse_name(request.name, "uploads"), request.offset, request.data
        )
        return pb.WriteUploadChunkResponse(upload=self._upload(upload))

    def CompleteUpload(self, request, _context):
        stored = self._uploads.complete(context.tenant(), parse_name(request.name, "uploads"), request.sha256)
        return pb.CompleteUploadResponse(file=file_message(stored))

    def AbortUpload(self, request, _context):
        self._uploads.abort(context.tenant(), parse_name(request.name, "uploads"))
        return pb.AbortUploadResponse()

    def UploadFile(self, request_iterator, _context):
        first = next(request_iterator, None)
        if first is None or not first.HasField("metadata"):
            raise InvalidArgument(FieldViolation("metadata", "the first message must carry the metadata"))
        m = first.metadata

        def chunks():
            for message in request_iterator:
                if not message.HasField("chunk"):
                    raise InvalidArgument(FieldViolation("chunk", "only the first message may carry metadata"))
                yield message.chunk

        stored = self._uploads.upload_stream(
            context.tenant(),
            NewUpload(
                file_name=m.file_name,
                role=m.role,
                display_name=m.display_name,
                description=m.description,
                declared_size_bytes=m.declared_size_bytes,
                declared_sha256=m.sha256,
            ),
            chunks(),
        )
        return pb.UploadFileResponse(file=file_message(stored))

    def GetFile(self, request, _context):
        return pb.GetFileResponse(
            file=file_message(self._files.get(context.tenant(), parse_name(request.name, "files")))
        )

    def ListFiles(self, request, _context):
        role = Role(request.role) if request.role else None
        page = self._files.list(context.tenant(), role, request.page_size, request.page_token)
        return pb.ListFilesResponse(files=[file_message(f) for f in page.items], next_page_token=page.next_page_token)

    def UpdateFile(self, request, _context):
        f = request.file
        stored = self._files.update(
            context.tenant(),
            parse_name(f.name, "files", "file.name"),
            list(request.update_mask.paths),
            display_name=f.display_name,
            description=f.description,
            role=f.role,
        )
        return pb.UpdateFileResponse(file=file_message(stored))

    def DeleteFile(self, request, _context):
        self._files.delete(context.tenant(), parse_name(request.name, "files"))
        return pb.DeleteFileResponse()

    def DownloadFile(self, request, _context):
        stored, chunks = self._files.download(context.tenant(), parse_name(request.name, "files"))
        yield pb.DownloadFileResponse(
            header=pb.DownloadFileHeader(
                size_bytes=stored.size_bytes, sha256=stored.sha256, content_type="text/csv", file_name=stored.file_name
            )
        )
        for chunk in chunks:
            yield pb.DownloadFileResponse(chunk=chunk)

    def PreviewFile(self, request, _context):
        columns, rows = self._files.preview(context.tenant(), parse_name(request.name, "files"), request.row_count)
        return pb.PreviewFileResponse(
            columns=columns, rows=[pb.PreviewRow(time=timestamp(time), values=values) for time, values in rows]
        )

    def CreateApiKey(self, request, _context):
        k = request.api_key
        expire_time = k.expire_time.ToDatetime(tzinfo=UTC) if k.HasField("expire_time") else None
        created, text = self._api_keys.create(context.tenant(), k.display_name, expire_time, context.api_key())
        return keys_pb.CreateApiKeyResponse(api_key=api_key_message(created), key=text)

    def ListApiKeys(self, request, _context):
        keys, next_page_token = self._api_keys.list(context.tenant(), request.page_size, request.page_token)
        return keys_pb.ListApiKeysResponse(api_keys=[api_key_message(k) for k in keys], next_page_token=next_page_token)

    def RevokeApiKey(self, request, _context):
        revoked = self._api_keys.revoke(context.tenant(), parse_name(request.name, "apiKeys"))
        return keys_pb.RevokeApiKeyResponse(api_key=api_key_message(revoked))

    def GetCaller(self, _request, _context):
        tenant, name = context.tenant(), context.api_key()
        if name is None:
            return keys_pb.GetCallerResponse(tenant=tenant)
        key = self._api_keys.get(tenant, parse_name(name, "apiKeys"))
        return keys_pb.GetCallerResponse(tenant=tenant, api_key=name, expire_time=timestamp(key.expire_time))

    def _upload(self, upload: Upload) -> pb.Upload:
        state = pb.UPLOAD_STATE_COMPLETED if upload.state == UploadState.COMPLETED else pb.UPLOAD_STATE_ACTIVE
        return pb.Upload(
            name=upload.name,
            file_name=upload.file_name,
            role=upload.role,
            display_name=upload.display_name,
            description=upload.description,
            declared_size_bytes=upload.declared_size_bytes,
            declared_sha256=upload.declared_sha256,
            received_bytes=upload.received_bytes,
            state=state,
            create_time=timestamp(upload.create_time),
            update_time=timestamp(upload.update_time),
            expire_time=timestamp(upload.update_time + self._uploads.expiry),
            file=f"files/{upload.id}" if upload.state == UploadState.COMPLETED else "",
        )


def api_key_message(key: ApiKey) -> keys_pb.ApiKey:
    return keys_pb.ApiKey(
        name=key.name,
        display_name=key.display_name,
        prefix=key.prefix,
        create_time=timestamp(key.create_time),
        expire_time=timestamp(key.expire_time),
        last_use_time=timestamp(key.last_use_time),
        revoke_time=timestamp(key.revoke_time),
        revoked=key.revoke_time is not None,
    )


def file_message(stored: StoredFile) -> pb.File:
    return pb.File(
        name=stored.name,
        display_name=stored.display_name,
        description=stored.description,
        role=stored.role,
        file_name=stored.file_name,
        size_bytes=stored.size_bytes,
        sha256=stored.sha256,
        profile=profile_message(stored.profile),
        create_time=timestamp(stored.create_time),
        update_time=timestamp(stored.update_time),
    )


def profile_message(profile: FileProfile) -> pb.FileProfile:
    message = pb.FileProfile(
        encoding=profile.encoding,
        separator=profile.separator,
        decimal_mark=profile.decimal_mark,
        has_header=profile.has_header,
        timestamp_column=profile.timestamp_column,
        timestamp_format=profile.timestamp_format,
        timestamps_have_zone=profile.timestamps_have_zone,
        row_count=profile.row_count,
        first_time=timestamp(profile.first_time),
        last_time=timestamp(profile.last_time),
        gap_count=profile.gap_count,
        duplicate_timestamp_count=profile.duplicate_timestamp_count,
        out_of_order_count=profile.out_of_order_count,
    )
    if profile.median_step is not None:
        message.median_step.CopyFrom(duration(profile.median_step))
    if profile.min_step is not None:
        message.min_step.CopyFrom(duration(profile.min_step))
    for column in profile.columns:
        entry = message.columns.add(
            name=column.name,
            numeric_count=column.numeric_count,
            missing_count=column.missing_count,
            numeric_share=column.numeric_share,
            non_finite_count=column.non_finite_count,
        )
        if column.min is not None and math.isfinite(column.min):
            entry.min = column.min
        if column.max is not None and math.isfinite(column.max):
            entry.max = column.max
    return message
