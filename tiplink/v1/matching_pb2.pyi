from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EntityIdPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTITY_ID_POLICY_UNSPECIFIED: _ClassVar[EntityIdPolicy]
    ENTITY_ID_POLICY_PER_PARTY: _ClassVar[EntityIdPolicy]
    ENTITY_ID_POLICY_SHARED: _ClassVar[EntityIdPolicy]
ENTITY_ID_POLICY_UNSPECIFIED: EntityIdPolicy
ENTITY_ID_POLICY_PER_PARTY: EntityIdPolicy
ENTITY_ID_POLICY_SHARED: EntityIdPolicy

class CreateProjectRequest(_message.Message):
    __slots__ = ("name", "schema_name", "schema_fingerprint", "parties", "min_cell_count", "entity_id_policy")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    PARTIES_FIELD_NUMBER: _ClassVar[int]
    MIN_CELL_COUNT_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ID_POLICY_FIELD_NUMBER: _ClassVar[int]
    name: str
    schema_name: str
    schema_fingerprint: str
    parties: _containers.RepeatedScalarFieldContainer[str]
    min_cell_count: int
    entity_id_policy: EntityIdPolicy
    def __init__(self, name: _Optional[str] = ..., schema_name: _Optional[str] = ..., schema_fingerprint: _Optional[str] = ..., parties: _Optional[_Iterable[str]] = ..., min_cell_count: _Optional[int] = ..., entity_id_policy: _Optional[_Union[EntityIdPolicy, str]] = ...) -> None: ...

class CreateProjectResponse(_message.Message):
    __slots__ = ("project_id", "party_tokens", "analyst_token")
    class PartyTokensEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    PARTY_TOKENS_FIELD_NUMBER: _ClassVar[int]
    ANALYST_TOKEN_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    party_tokens: _containers.ScalarMap[str, str]
    analyst_token: str
    def __init__(self, project_id: _Optional[str] = ..., party_tokens: _Optional[_Mapping[str, str]] = ..., analyst_token: _Optional[str] = ...) -> None: ...

class DeleteProjectRequest(_message.Message):
    __slots__ = ("project_id",)
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    def __init__(self, project_id: _Optional[str] = ...) -> None: ...

class DeleteProjectResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: bool
    def __init__(self, deleted: _Optional[bool] = ...) -> None: ...

class Segment(_message.Message):
    __slots__ = ("name", "start", "bits")
    NAME_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    BITS_FIELD_NUMBER: _ClassVar[int]
    name: str
    start: int
    bits: int
    def __init__(self, name: _Optional[str] = ..., start: _Optional[int] = ..., bits: _Optional[int] = ...) -> None: ...

class UploadHeader(_message.Message):
    __slots__ = ("upload_id", "party", "schema_fingerprint", "key_check", "record_count", "bit_length", "segments", "strata", "schema_name", "content_sha256", "replace", "created_at")
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    PARTY_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    KEY_CHECK_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    BIT_LENGTH_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    STRATA_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    REPLACE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    party: str
    schema_fingerprint: str
    key_check: str
    record_count: int
    bit_length: int
    segments: _containers.RepeatedCompositeFieldContainer[Segment]
    strata: _containers.RepeatedScalarFieldContainer[str]
    schema_name: str
    content_sha256: str
    replace: bool
    created_at: str
    def __init__(self, upload_id: _Optional[str] = ..., party: _Optional[str] = ..., schema_fingerprint: _Optional[str] = ..., key_check: _Optional[str] = ..., record_count: _Optional[int] = ..., bit_length: _Optional[int] = ..., segments: _Optional[_Iterable[_Union[Segment, _Mapping]]] = ..., strata: _Optional[_Iterable[str]] = ..., schema_name: _Optional[str] = ..., content_sha256: _Optional[str] = ..., replace: _Optional[bool] = ..., created_at: _Optional[str] = ...) -> None: ...

class StratumColumn(_message.Message):
    __slots__ = ("name", "values")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    name: str
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ...) -> None: ...

class RecordBatch(_message.Message):
    __slots__ = ("record_ids", "clks", "strata")
    RECORD_IDS_FIELD_NUMBER: _ClassVar[int]
    CLKS_FIELD_NUMBER: _ClassVar[int]
    STRATA_FIELD_NUMBER: _ClassVar[int]
    record_ids: _containers.RepeatedScalarFieldContainer[str]
    clks: bytes
    strata: _containers.RepeatedCompositeFieldContainer[StratumColumn]
    def __init__(self, record_ids: _Optional[_Iterable[str]] = ..., clks: _Optional[bytes] = ..., strata: _Optional[_Iterable[_Union[StratumColumn, _Mapping]]] = ...) -> None: ...

class UploadChunk(_message.Message):
    __slots__ = ("header", "batch")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    header: UploadHeader
    batch: RecordBatch
    def __init__(self, header: _Optional[_Union[UploadHeader, _Mapping]] = ..., batch: _Optional[_Union[RecordBatch, _Mapping]] = ...) -> None: ...

class UploadResponse(_message.Message):
    __slots__ = ("upload_id", "records", "duplicate", "replaced", "uploaded", "run_queued")
    UPLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    REPLACED_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_FIELD_NUMBER: _ClassVar[int]
    RUN_QUEUED_FIELD_NUMBER: _ClassVar[int]
    upload_id: str
    records: int
    duplicate: bool
    replaced: bool
    uploaded: _containers.RepeatedScalarFieldContainer[str]
    run_queued: bool
    def __init__(self, upload_id: _Optional[str] = ..., records: _Optional[int] = ..., duplicate: _Optional[bool] = ..., replaced: _Optional[bool] = ..., uploaded: _Optional[_Iterable[str]] = ..., run_queued: _Optional[bool] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ("project_id", "state", "uploaded", "parties", "progress", "error", "run_id", "name")
    PROJECT_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_FIELD_NUMBER: _ClassVar[int]
    PARTIES_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    project_id: str
    state: str
    uploaded: _containers.RepeatedScalarFieldContainer[str]
    parties: _containers.RepeatedScalarFieldContainer[str]
    progress: float
    error: str
    run_id: int
    name: str
    def __init__(self, project_id: _Optional[str] = ..., state: _Optional[str] = ..., uploaded: _Optional[_Iterable[str]] = ..., parties: _Optional[_Iterable[str]] = ..., progress: _Optional[float] = ..., error: _Optional[str] = ..., run_id: _Optional[int] = ..., name: _Optional[str] = ...) -> None: ...

class GetCountsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCountsResponse(_message.Message):
    __slots__ = ("counts_json", "run_id")
    COUNTS_JSON_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    counts_json: str
    run_id: int
    def __init__(self, counts_json: _Optional[str] = ..., run_id: _Optional[int] = ...) -> None: ...

class GetClustersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ClusterBatch(_message.Message):
    __slots__ = ("party", "record_ids", "entity_ids")
    PARTY_FIELD_NUMBER: _ClassVar[int]
    RECORD_IDS_FIELD_NUMBER: _ClassVar[int]
    ENTITY_IDS_FIELD_NUMBER: _ClassVar[int]
    party: str
    record_ids: _containers.RepeatedScalarFieldContainer[str]
    entity_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, party: _Optional[str] = ..., record_ids: _Optional[_Iterable[str]] = ..., entity_ids: _Optional[_Iterable[str]] = ...) -> None: ...
