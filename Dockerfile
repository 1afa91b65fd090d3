# rampart as a container image: a static binary on an empty base.
#
#   docker build -t rampart .
#   docker run --rm -v "$PWD:/src" rampart scan .
#
# The builder is Alpine's Rust image, whose native target is musl, so the
# binary links statically; the final image holds only that binary.

# The official image carries gcc and the musl C runtime the static link
# needs; rampart's dependencies build no other C.
FROM rust:1.95-alpine3.22 AS build
WORKDIR /build
COPY . .
RUN cargo build --profile dist --locked \
    && cp target/dist/rampart /rampart

FROM scratch
COPY --from=build /rampart /usr/local/bin/rampart
# Any unprivileged uid works: rampart only reads the mounted tree and
# writes the reports it is asked for.
USER 65532:65532
WORKDIR /src
# A one-shot command-line tool: there is no service to probe.
HEALTHCHECK NONE
ENTRYPOINT ["rampart"]
CMD ["--help"]
