-- +goose Up
-- placeholder: the domain schema is written in the foundation issue.
CREATE TABLE lxcbot_meta (key text PRIMARY KEY, value text NOT NULL);

-- +goose Down
DROP TABLE lxcbot_meta;
