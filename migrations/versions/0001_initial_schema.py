"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 10:48:07.109905
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('actors',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('retracted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('aliases', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('country_code', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=True),
    sa.Column('external_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('external_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('affiliation_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.ForeignKeyConstraint(['affiliation_id'], ['actors.id'], name=op.f('fk_actors_affiliation_id_actors')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_actors')),
    sa.UniqueConstraint('external_ref', name=op.f('uq_actors_external_ref')),
    sa.UniqueConstraint('slug', name=op.f('uq_actors_slug'))
    )
    with op.batch_alter_table('actors', schema=None) as batch_op:
        batch_op.create_index('ix_actors_affiliation_id', ['affiliation_id'], unique=False)
        batch_op.create_index('ix_actors_kind', ['kind'], unique=False)
        batch_op.create_index('ix_actors_name_id', ['name', 'id'], unique=False)

    op.create_table('channels',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('retracted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('level', sa.String(length=20), nullable=True),
    sa.Column('established_on', sa.Date(), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=20000), nullable=True),
    sa.Column('external_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channels')),
    sa.UniqueConstraint('external_ref', name=op.f('uq_channels_external_ref'))
    )
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.create_index('ix_channels_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_channels_name_id', ['name', 'id'], unique=False)
        batch_op.create_index('ix_channels_updated_at_id', ['updated_at', 'id'], unique=False)

    op.create_table('exercises',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('retracted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('aliases', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('date_precision', sa.String(length=10), nullable=False),
    sa.Column('domains', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('troops', sa.Integer(), nullable=True),
    sa.Column('vessels', sa.Integer(), nullable=True),
    sa.Column('aircraft', sa.Integer(), nullable=True),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=20000), nullable=True),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('external_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exercises')),
    sa.UniqueConstraint('external_ref', name=op.f('uq_exercises_external_ref'))
    )
    with op.batch_alter_table('exercises', schema=None) as batch_op:
        batch_op.create_index('ix_exercises_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_exercises_name_id', ['name', 'id'], unique=False)
        batch_op.create_index('ix_exercises_start_date_id', ['start_date', 'id'], unique=False)
        batch_op.create_index('ix_exercises_updated_at_id', ['updated_at', 'id'], unique=False)

    op.create_table('incidents',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('retracted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=20000), nullable=True),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('date_precision', sa.String(length=10), nullable=False),
    sa.Column('persons_affected', sa.Integer(), nullable=True),
    sa.Column('location', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('tags', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('external_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('external_ref', name=op.f('uq_incidents_external_ref'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_incidents_kind_occurred_on_id', ['kind', 'occurred_on', 'id'], unique=False)
        batch_op.create_index('ix_incidents_occurred_on_id', ['occurred_on', 'id'], unique=False)
        batch_op.create_index('ix_incidents_updated_at_id', ['updated_at', 'id'], unique=False)

    op.create_table('sources',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('retracted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('publisher', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
    sa.Column('authors', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('published_on', sa.Date(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=True),
    sa.Column('external_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sources')),
    sa.UniqueConstraint('external_ref', name=op.f('uq_sources_external_ref')),
    sa.UniqueConstraint('url', name=op.f('uq_sources_url'))
    )
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.create_index('ix_sources_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_sources_publisher', ['publisher'], unique=False)
        batch_op.create_index('ix_sources_title_id', ['title', 'id'], unique=False)

    op.create_table('channel_status_changes',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('retracted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=True),
    sa.Column('external_ref', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('channel_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('caused_by_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.ForeignKeyConstraint(['caused_by_id'], ['incidents.id'], name=op.f('fk_channel_status_changes_caused_by_id_incidents')),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_channel_status_changes_channel_id_channels')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_status_changes')),
    sa.UniqueConstraint('external_ref', name=op.f('uq_channel_status_changes_external_ref'))
    )
    with op.batch_alter_table('channel_status_changes', schema=None) as batch_op:
        batch_op.create_index('ix_channel_status_changes_channel', ['channel_id', 'effective_on', 'created_at'], unique=False)

    op.create_table('citations',
    sa.Column('resource', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('record_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('source_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_citations_source_id_sources')),
    sa.PrimaryKeyConstraint('resource', 'record_id', 'source_id', name=op.f('pk_citations'))
    )
    with op.batch_alter_table('citations', schema=None) as batch_op:
        batch_op.create_index('ix_citations_source_id', ['source_id'], unique=False)

    op.create_table('incident_responses',
    sa.Column('incident_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('responds_to_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_responses_incident_id_incidents')),
    sa.ForeignKeyConstraint(['responds_to_id'], ['incidents.id'], name=op.f('fk_incident_responses_responds_to_id_incidents')),
    sa.PrimaryKeyConstraint('incident_id', 'responds_to_id', name=op.f('pk_incident_responses'))
    )
    with op.batch_alter_table('incident_responses', schema=None) as batch_op:
        batch_op.create_index('ix_incident_responses_responds_to_id', ['responds_to_id'], unique=False)

    op.create_table('involvements',
    sa.Column('resource', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('record_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('actor_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['actors.id'], name=op.f('fk_involvements_actor_id_actors')),
    sa.PrimaryKeyConstraint('resource', 'record_id', 'role', 'actor_id', name=op.f('pk_involvements'))
    )
    with op.batch_alter_table('involvements', schema=None) as batch_op:
        batch_op.create_index('ix_involvements_actor', ['actor_id', 'resource', 'role', 'record_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('involvements', schema=None) as batch_op:
        batch_op.drop_index('ix_involvements_actor')

    op.drop_table('involvements')
    with op.batch_alter_table('incident_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_responses_responds_to_id')

    op.drop_table('incident_responses')
    with op.batch_alter_table('citations', schema=None) as batch_op:
        batch_op.drop_index('ix_citations_source_id')

    op.drop_table('citations')
    with op.batch_alter_table('channel_status_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_channel_status_changes_channel')

    op.drop_table('channel_status_changes')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_index('ix_sources_title_id')
        batch_op.drop_index('ix_sources_publisher')
        batch_op.drop_index('ix_sources_created_at_id')

    op.drop_table('sources')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ix_incidents_updated_at_id')
        batch_op.drop_index('ix_incidents_occurred_on_id')
        batch_op.drop_index('ix_incidents_kind_occurred_on_id')
        batch_op.drop_index('ix_incidents_created_at_id')

    op.drop_table('incidents')
    with op.batch_alter_table('exercises', schema=None) as batch_op:
        batch_op.drop_index('ix_exercises_updated_at_id')
        batch_op.drop_index('ix_exercises_start_date_id')
        batch_op.drop_index('ix_exercises_name_id')
        batch_op.drop_index('ix_exercises_created_at_id')

    op.drop_table('exercises')
    with op.batch_alter_table('channels', schema=None) as batch_op:
        batch_op.drop_index('ix_channels_updated_at_id')
        batch_op.drop_index('ix_channels_name_id')
        batch_op.drop_index('ix_channels_created_at_id')

    op.drop_table('channels')
    with op.batch_alter_table('actors', schema=None) as batch_op:
        batch_op.drop_index('ix_actors_name_id')
        batch_op.drop_index('ix_actors_kind')
        batch_op.drop_index('ix_actors_affiliation_id')

    op.drop_table('actors')
