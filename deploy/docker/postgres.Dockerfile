# PostgreSQL 15 from Debian's packages, for the compose stack where no registry image can be pulled (elsewhere the
# official postgres image works the same way: the compose file and deploy/docker/postgres-init.sh only use
# POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB). Build from the repository root:
#   docker build -f deploy/docker/postgres.Dockerfile --build-arg BASE_IMAGE=localhost/spectral-base:bookworm -t spectral/postgres .
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/postgresql/data /run/postgresql \
 && chown postgres:postgres /var/lib/postgresql/data /run/postgresql
COPY deploy/docker/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
EXPOSE 5432
USER postgres
HEALTHCHECK --interval=5s --timeout=5s --retries=10 CMD ["pg_isready", "-h", "127.0.0.1", "-U", "postgres"]
# SIGTERM is PostgreSQL's "smart" shutdown; compose waits (stop_grace_period) for it.
STOPSIGNAL SIGINT
ENTRYPOINT ["postgres-entrypoint.sh"]
