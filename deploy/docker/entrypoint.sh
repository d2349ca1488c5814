#!/bin/sh
# Container entrypoint: load secret files, then exec `gmirs-$GMIRS_SERVICE "$@"` (default: run).
#
# Secrets never appear in the compose file or the image. Each file in $GMIRS_SECRETS_DIR
# (default /run/secrets, where compose and Kubernetes mount them) whose name is a lowercase
# setting name becomes that setting, e.g. /run/secrets/case_database_url -> CASE_DATABASE_URL,
# the same naming pydantic-settings uses for a secrets directory. Only files the deployment
# mounted for this container are read; setting a variable both ways is refused.
set -eu

secrets_dir="${GMIRS_SECRETS_DIR:-/run/secrets}"
if [ -d "${secrets_dir}" ]; then
    for file in "${secrets_dir}"/*; do
        [ -f "${file}" ] || continue
        base=$(basename "${file}")
        case "${base}" in
            [!a-z]* | *[!a-z0-9_]*) continue ;;
        esac
        name=$(printf '%s' "${base}" | tr 'a-z' 'A-Z')
        if [ -n "$(printenv "${name}" || true)" ]; then
            echo "gmirs-entrypoint: ${name} is set in the environment and as a secret file" >&2
            exit 64
        fi
        value=$(cat "${file}")
        export "${name}=${value}"
    done
fi

exec "gmirs-${GMIRS_SERVICE:?GMIRS_SERVICE is not set}" "$@"
