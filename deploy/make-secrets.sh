#!/bin/sh
# Create the secret files deploy/compose.yaml mounts, with fresh random passwords:
#   deploy/make-secrets.sh /etc/gmirs/secrets      (then: export GMIRS_SECRETS_DIR=/etc/gmirs/secrets)
# Existing files are kept (rotate deliberately: change the role's password in PostgreSQL, then
# both files, then restart the service). RM_CLIENT_SECRET, if set, is written to rm_client_secret;
# it is issued by HMPPS Auth and cannot be generated here.
#
# The folder is private to its owner (0700); the files are 0444 because compose bind-mounts them
# into containers running as other users (postgres, gmirs, grafana), which never see the folder.
set -eu

dir="${1:?usage: make-secrets.sh DIR}"
umask 077
mkdir -p "${dir}"
chmod 0700 "${dir}"

random_hex() {
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'
}

write() {  # write NAME VALUE, unless NAME exists
    if [ -e "${dir}/$1" ]; then
        echo "kept    ${dir}/$1"
        return
    fi
    printf '%s' "$2" > "${dir}/$1"
    chmod 0444 "${dir}/$1"
    echo "created ${dir}/$1"
}

write postgres_password "$(random_hex)"
write grafana_admin_password "$(random_hex)"
for service in intake case metrics notify; do
    if [ ! -e "${dir}/${service}_db_password" ]; then
        password=$(random_hex)
        write "${service}_db_password" "${password}"
        write "${service}_database_url" \
            "postgresql+asyncpg://gmirs_${service}:${password}@postgres:5432/gmirs"
    else
        echo "kept    ${dir}/${service}_db_password (and ${service}_database_url)"
    fi
done

if [ -n "${RM_CLIENT_SECRET:-}" ]; then
    write rm_client_secret "${RM_CLIENT_SECRET}"
elif [ ! -e "${dir}/rm_client_secret" ]; then
    echo "missing ${dir}/rm_client_secret: write the HMPPS Auth client secret there" >&2
    echo "        (printf '%s' \"\$SECRET\" > ${dir}/rm_client_secret; chmod 0444 ...)" >&2
fi
