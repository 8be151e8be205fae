"""tiplink: privacy-preserving record linkage for anti-trafficking registers.

The stages live in sibling folders of the repository and install as
sub-packages of ``tiplink``:

* ``tiplink.encoders`` (folder ``encoders/``): agency side. Schemas,
  normalisation, CLK encoding, the extract file.
* ``tiplink.linkage`` (folder ``linkage/``): the engine. Similarity, blocking,
  clustering, counts, estimation, protection.
* ``tiplink.service`` (folder ``service/``): the gRPC server, storage, auth and
  the client.
"""

__version__ = "0.1.0"
