"""Alembic's environment for xmodal stores: always run on a connection the store hands over
(`config.attributes["connection"]`), never from a URL in a config file."""

from alembic import context

from xmodal.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("xmodal migrations run through xmodal (`xmodal upgrade --store DIR`), not the alembic command")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
