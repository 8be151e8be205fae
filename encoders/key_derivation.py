"""Keys derived from the shared secret.

Every feature gets two keys (HMAC-SHA1 and HMAC-MD5 for double hashing; the
first is the BLAKE2b key), derived with HKDF (RFC 5869) from the secret with
the schema's hash, salt, info and key size. The key block is cut in order:
feature ``i`` takes keys ``2i`` and ``2i + 1``. Ignored features take their
slots too, which is what makes the encodings equal clkhash 0.18's.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tiplink.encoders.schema import KdfConfig

KEYS_PER_FEATURE = 2
_HASHES = {"SHA256": hashes.SHA256, "SHA512": hashes.SHA512}
# Distinct HKDF contexts keep the key-check value independent of encoding keys.
_KEY_CHECK_SALT = b"tiplink/v1/key-check"
_KEY_CHECK_INFO = b"tiplink key-check value"


def derive_feature_keys(secret: bytes, num_features: int, kdf: KdfConfig
                        ) -> tuple[tuple[bytes, bytes], ...]:
    """Derive the key pair of every feature.

    Args:
        secret: the shared secret (the secret file's text as UTF-8).
        num_features: number of features, ignored ones included.
        kdf: the schema's HKDF settings.

    Returns:
        One ``(key_a, key_b)`` pair per feature.
    """
    size = kdf.key_size
    total = num_features * KEYS_PER_FEATURE
    block = HKDF(algorithm=_HASHES[kdf.hash_name](), length=total * size,
                 salt=kdf.salt, info=kdf.info).derive(secret)
    keys = [block[i * size:(i + 1) * size] for i in range(total)]
    return tuple((keys[2 * i], keys[2 * i + 1]) for i in range(num_features))


def derive_subkey(secret: bytes, purpose: str) -> bytes:
    """A 32-byte key for one of tiplink's own purposes (salting, noise, ...)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tiplink/v1/subkey",
                info=purpose.encode("utf-8")).derive(secret)


def key_check_value(secret: bytes) -> str:
    """A value that is equal for equal secrets and reveals nothing else.

    The server compares these across uploads to confirm that every party
    used the same secret. It is an HMAC under an HKDF-derived key, so it
    cannot be turned back into the secret or into any encoding key; with a
    256-bit random secret (``tiplink keygen``) guessing is hopeless.
    """
    check_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_KEY_CHECK_SALT,
                     info=_KEY_CHECK_INFO).derive(secret)
    return "kcv1:" + hmac.new(check_key, b"tiplink", hashlib.sha256).hexdigest()[:32]
