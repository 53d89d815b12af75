// Package deploy holds lxcbot's deployment artefacts: the container image
// (Dockerfile), a docker compose stack, a Helm chart and systemd units. It has
// no Go code of its own; its tests check the artefacts offline against the
// configuration, command and metric names the binary really has.
package deploy
