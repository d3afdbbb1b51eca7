"""The schema Alembic autogenerates migrations for: a foreign key with
ON DELETE CASCADE, a unique constraint, an index, a check constraint,
server defaults, numeric, JSON-free types every ORM uses."""
import sqlalchemy as sa

metadata = sa.MetaData()

customer = sa.Table(
    "alembic_customer",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(200), nullable=False, unique=True),
    sa.Column("created", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
)

order = sa.Table(
    "alembic_order",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("customer_id", sa.Integer, sa.ForeignKey("alembic_customer.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("total", sa.Numeric(10, 2), nullable=False, server_default="0"),
    sa.Column("note", sa.Text),
    sa.CheckConstraint("total >= 0", name="alembic_order_total_check"),
)
