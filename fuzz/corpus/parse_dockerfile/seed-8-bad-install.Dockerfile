FROM debian:bookworm-slim
# rampart-expect: docker-apt-get-install-without-no-install-recommends
RUN apt-get update && apt-get install -y curl ca-certificates

# Continuation lines: the finding is on the line of the apt-get command.
RUN set -eux; \
    apt-get update; \
    # rampart-expect: docker-apt-get-install-without-no-install-recommends
    DEBIAN_FRONTEND=noninteractive apt-get -y install \
        git \
        openssh-client; \
    rm -rf /var/lib/apt/lists/*

# apt installs recommends just the same.
# rampart-expect: docker-apt-get-install-without-no-install-recommends
RUN apt install -y jq

# rampart-expect: docker-apt-get-install-without-no-install-recommends
RUN ["apt-get", "install", "-y", "make"]

# rampart-expect: docker-apt-get-install-without-no-install-recommends
RUN sudo apt-get install -y vim

# Recommends asked for explicitly: still flagged.
# rampart-expect: docker-apt-get-install-without-no-install-recommends
RUN apt-get -o APT::Install-Recommends=true install -y texlive
