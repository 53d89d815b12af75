#!/usr/bin/env bash
# Start nginx now and at boot, after checking its configuration.
set -euo pipefail

ensure_installed nginx

# Debian's default site serves index.nginx-debian.html when index.html is
# missing; the managed index.html is listed first, so it wins.
if ! nginx -t; then
    log_error "nginx configuration test failed"
    exit 1
fi

systemctl enable --now nginx
systemctl reload nginx
log_info "nginx is serving /var/www/html on port 80"
