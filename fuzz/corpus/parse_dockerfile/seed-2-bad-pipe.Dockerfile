FROM debian:bookworm-slim
# rampart-expect: docker-curl-pipe-to-shell
RUN curl -fsSL https://get.example.com/install.sh | sh
# rampart-expect: docker-curl-pipe-to-shell
RUN wget -qO- https://example.com/setup | /bin/bash -s -- --yes
RUN apt-get update && \
    curl -sL https://deb.example.com/setup_20.x \
    # rampart-expect: docker-curl-pipe-to-shell
    | sudo -E bash -
# rampart-expect: docker-curl-pipe-to-shell
RUN curl -s https://example.com/i.sh | /usr/bin/env bash
# rampart-expect: docker-curl-pipe-to-shell
RUN sh -c "$(curl -fsSL https://raw.example.com/install.sh)"
