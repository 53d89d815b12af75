-- +goose Up
-- The whole domain of PRODUCT.md §1. Enumerated columns carry CHECKs so a bad
-- value is refused by the database even if a caller skips validation.

-- Workspaces: a Slack team, a Discord guild or the console, with where and
-- which notifications go.
CREATE TABLE workspaces (
    id             bigserial   PRIMARY KEY,
    platform       text        NOT NULL CHECK (platform IN ('slack', 'discord', 'console')),
    external_id    text        NOT NULL CHECK (external_id <> ''),
    name           text        NOT NULL DEFAULT '',
    notify_channel text        NOT NULL DEFAULT '',
    notify_events  text[]      NOT NULL DEFAULT '{}'
        CHECK (notify_events <@ ARRAY['created', 'failed', 'deleted', 'lifecycle', 'drift', 'node']::text[]),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workspaces_platform_external_id_key UNIQUE (platform, external_id)
);

-- Role bindings: one role per user or group on a platform.
CREATE TABLE role_bindings (
    id           bigserial   PRIMARY KEY,
    platform     text        NOT NULL CHECK (platform IN ('slack', 'discord', 'console')),
    subject_kind text        NOT NULL CHECK (subject_kind IN ('user', 'group')),
    subject_id   text        NOT NULL CHECK (subject_id <> ''),
    role         text        NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    granted_by   text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT role_bindings_subject_key UNIQUE (platform, subject_kind, subject_id)
);

-- Channel bindings: which channels the bot answers in and what they accept.
CREATE TABLE channel_bindings (
    id               bigserial   PRIMARY KEY,
    platform         text        NOT NULL CHECK (platform IN ('slack', 'discord', 'console')),
    channel_id       text        NOT NULL CHECK (channel_id <> ''),
    allowed_commands text[]      NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT channel_bindings_channel_key UNIQUE (platform, channel_id)
);

-- Nodes. Secrets are sealed by the application's keyring (AES-256-GCM, bound
-- to node name and field); the database never sees them in clear.
CREATE TABLE nodes (
    id                   bigserial   PRIMARY KEY,
    name                 text        NOT NULL CHECK (name <> ''),
    api_url              text        NOT NULL CHECK (api_url <> ''),
    token_id             text        NOT NULL DEFAULT '',
    token_secret         bytea,
    tls_fingerprint      text        NOT NULL DEFAULT '',
    insecure_skip_verify boolean     NOT NULL DEFAULT false,
    ssh_addr             text        NOT NULL DEFAULT '',
    ssh_user             text        NOT NULL DEFAULT '',
    ssh_password         bytea,
    ssh_private_key      bytea,
    ssh_host_key         text        NOT NULL DEFAULT '',
    is_default           boolean     NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT nodes_name_key UNIQUE (name)
);
-- At most one default node.
CREATE UNIQUE INDEX nodes_one_default ON nodes ((true)) WHERE is_default;

-- Package buckets: named, reusable package lists for one manager.
CREATE TABLE package_buckets (
    id          bigserial   PRIMARY KEY,
    name        text        NOT NULL CHECK (name <> ''),
    manager     text        NOT NULL CHECK (manager IN ('apt', 'pip', 'npm', 'custom')),
    description text        NOT NULL DEFAULT '',
    packages    jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(packages) = 'array'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT package_buckets_name_key UNIQUE (name)
);

-- Templates: recipes for containers.
CREATE TABLE templates (
    id              bigserial   PRIMARY KEY,
    name            text        NOT NULL CHECK (name <> ''),
    app             text        NOT NULL DEFAULT '',
    description     text        NOT NULL DEFAULT '',
    tags            text[]      NOT NULL DEFAULT '{}',
    os_template     text        NOT NULL DEFAULT '',
    cores           integer     NOT NULL DEFAULT 1   CHECK (cores >= 1),
    memory_mib      integer     NOT NULL DEFAULT 512 CHECK (memory_mib >= 16),
    swap_mib        integer     NOT NULL DEFAULT 0   CHECK (swap_mib >= 0),
    disk_gib        integer     NOT NULL DEFAULT 8   CHECK (disk_gib >= 1),
    storage         text        NOT NULL DEFAULT '',
    bridge          text        NOT NULL DEFAULT '',
    unprivileged    boolean     NOT NULL DEFAULT true,
    nesting         boolean     NOT NULL DEFAULT false,
    keyctl          boolean     NOT NULL DEFAULT false,
    fuse            boolean     NOT NULL DEFAULT false,
    packages_strict boolean     NOT NULL DEFAULT false,
    extra           jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(extra) = 'object'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT templates_name_key UNIQUE (name)
);
CREATE INDEX templates_tags_idx ON templates USING gin (tags);

CREATE TABLE template_scripts (
    id          bigserial PRIMARY KEY,
    template_id bigint    NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
    ord         integer   NOT NULL CHECK (ord >= 0),
    name        text      NOT NULL CHECK (name <> ''),
    body        text      NOT NULL DEFAULT '',
    enabled     boolean   NOT NULL DEFAULT true,
    CONSTRAINT template_scripts_name_key UNIQUE (template_id, name)
);

CREATE TABLE template_files (
    id          bigserial PRIMARY KEY,
    template_id bigint    NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
    name        text      NOT NULL CHECK (name <> ''),
    target_dir  text      NOT NULL CHECK (target_dir <> ''),
    policy      text      NOT NULL DEFAULT 'default' CHECK (policy IN ('default', 'replace', 'backup')),
    content     bytea     NOT NULL DEFAULT '\x',
    mode        integer   NOT NULL DEFAULT 0 CHECK (mode BETWEEN 0 AND 4095),
    CONSTRAINT template_files_name_key UNIQUE (template_id, name)
);

-- A bucket in use by a template cannot be deleted (RESTRICT); deleting the
-- template drops its links.
CREATE TABLE template_buckets (
    template_id bigint  NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
    bucket_id   bigint  NOT NULL REFERENCES package_buckets (id) ON DELETE RESTRICT,
    position    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (template_id, bucket_id)
);
CREATE INDEX template_buckets_bucket_idx ON template_buckets (bucket_id);

-- Containers the bot manages. Rows are kept after deletion for history, so
-- node and template are plain names, not foreign keys.
CREATE TABLE containers (
    id                  text        PRIMARY KEY CHECK (id <> ''),
    node_name           text        NOT NULL DEFAULT '',
    vmid                integer     CHECK (vmid BETWEEN 100 AND 999999999),
    hostname            text        NOT NULL CHECK (hostname <> ''),
    template_name       text        NOT NULL DEFAULT '',
    owner_platform      text        NOT NULL CHECK (owner_platform IN ('slack', 'discord', 'console')),
    owner_user_id       text        NOT NULL CHECK (owner_user_id <> ''),
    owner_name          text        NOT NULL DEFAULT '',
    origin_platform     text        NOT NULL CHECK (origin_platform IN ('slack', 'discord', 'console')),
    origin_workspace_id text        NOT NULL DEFAULT '',
    origin_channel_id   text        NOT NULL DEFAULT '',
    origin_thread_id    text        NOT NULL DEFAULT '',
    origin_message_id   text        NOT NULL DEFAULT '',
    state               text        NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'creating', 'ready', 'failed', 'cancelled', 'deleting', 'deleted', 'gone')),
    request             jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(request) = 'object'),
    completed_phases    text[]      NOT NULL DEFAULT '{}'
        CHECK (completed_phases <@ ARRAY['reserve', 'create', 'start', 'network', 'deploy', 'packages', 'scripts', 'discover', 'ready']::text[]),
    failed_phase        text
        CHECK (failed_phase IN ('reserve', 'create', 'start', 'network', 'deploy', 'packages', 'scripts', 'discover', 'ready')),
    last_error          text        NOT NULL DEFAULT '',
    ip                  text        NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    ready_at            timestamptz,
    deleted_at          timestamptz,
    CONSTRAINT containers_failed_phase_only_when_failed CHECK (failed_phase IS NULL OR state = 'failed')
);
-- Two live containers cannot share a hostname (case-insensitive, as DNS).
CREATE UNIQUE INDEX containers_live_hostname ON containers (lower(hostname))
    WHERE state NOT IN ('deleted', 'gone', 'failed', 'cancelled');
CREATE INDEX containers_vmid_idx ON containers (vmid) WHERE vmid IS NOT NULL;
CREATE INDEX containers_owner_idx ON containers (owner_platform, owner_user_id);
CREATE INDEX containers_state_updated_idx ON containers (state, updated_at);

-- VMID reservations: a VMID is reserved at most once across the cluster, so
-- concurrent creates never pick the same one.
CREATE TABLE vmid_reservations (
    vmid         integer     NOT NULL CHECK (vmid BETWEEN 100 AND 999999999),
    container_id text        NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
    node_name    text        NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT vmid_reservations_vmid_key UNIQUE (vmid)
);
CREATE INDEX vmid_reservations_container_idx ON vmid_reservations (container_id);

-- A container's timeline.
CREATE TABLE container_events (
    id           bigserial   PRIMARY KEY,
    container_id text        NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
    type         text        NOT NULL
        CHECK (type IN ('requested', 'phase_started', 'phase_finished', 'script_finished', 'warning', 'error', 'action', 'drift')),
    phase        text
        CHECK (phase IN ('reserve', 'create', 'start', 'network', 'deploy', 'packages', 'scripts', 'discover', 'ready')),
    message      text        NOT NULL DEFAULT '',
    actor        text        NOT NULL DEFAULT '',
    duration_ms  bigint      NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
    data         jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX container_events_container_idx ON container_events (container_id, id);

-- Services discovered inside a container.
CREATE TABLE services (
    id           bigserial   PRIMARY KEY,
    container_id text        NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
    unit         text        NOT NULL CHECK (unit <> ''),
    kind         text        NOT NULL CHECK (kind IN ('application', 'system')),
    status       text        NOT NULL DEFAULT '',
    ports        integer[]   NOT NULL DEFAULT '{}',
    url          text        NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT services_container_unit_key UNIQUE (container_id, unit)
);

-- Credentials saved by templates; value sealed by the keyring and bound to
-- container, service and key.
CREATE TABLE credentials (
    id           bigserial   PRIMARY KEY,
    container_id text        NOT NULL REFERENCES containers (id) ON DELETE CASCADE,
    service      text        NOT NULL CHECK (service <> ''),
    key          text        NOT NULL CHECK (key <> ''),
    value        bytea       NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT credentials_container_service_key_key UNIQUE (container_id, service, key)
);

-- Every command and button press. Targets are free text (container ids,
-- hostnames, node names), not foreign keys: the log outlives its subjects.
CREATE TABLE audit_log (
    id             bigserial   PRIMARY KEY,
    at             timestamptz NOT NULL DEFAULT now(),
    actor_platform text        NOT NULL CHECK (actor_platform IN ('slack', 'discord', 'console')),
    actor_user_id  text        NOT NULL DEFAULT '',
    actor_name     text        NOT NULL DEFAULT '',
    workspace_id   text        NOT NULL DEFAULT '',
    channel_id     text        NOT NULL DEFAULT '',
    command        text        NOT NULL CHECK (command <> ''),
    target         text        NOT NULL DEFAULT '',
    args           text        NOT NULL DEFAULT '',
    outcome        text        NOT NULL CHECK (outcome IN ('ok', 'denied', 'error', 'user_error')),
    error          text        NOT NULL DEFAULT '',
    duration_ms    bigint      NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
    ref_id         text        NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_target_idx ON audit_log (target, at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_platform, actor_user_id, at);

-- Inbound deliveries already seen (Slack event ids, trigger ids, Discord
-- interaction ids): the first claim wins, retries are dropped.
CREATE TABLE inbound_deliveries (
    dedupe_key  text        PRIMARY KEY CHECK (dedupe_key <> ''),
    platform    text        NOT NULL CHECK (platform IN ('slack', 'discord', 'console')),
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbound_deliveries_received_idx ON inbound_deliveries (received_at);

-- +goose Down
DROP TABLE inbound_deliveries;
DROP TABLE audit_log;
DROP TABLE credentials;
DROP TABLE services;
DROP TABLE container_events;
DROP TABLE vmid_reservations;
DROP TABLE containers;
DROP TABLE template_buckets;
DROP TABLE template_files;
DROP TABLE template_scripts;
DROP TABLE templates;
DROP TABLE package_buckets;
DROP TABLE nodes;
DROP TABLE channel_bindings;
DROP TABLE role_bindings;
DROP TABLE workspaces;
