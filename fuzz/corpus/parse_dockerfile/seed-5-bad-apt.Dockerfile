FROM debian:bookworm-slim
# rampart-expect: docker-apt-instead-of-apt-get
RUN apt update && apt-get install -y --no-install-recommends curl
RUN apt-get update && \
    # rampart-expect: docker-apt-instead-of-apt-get
    apt install -y --no-install-recommends jq
# rampart-expect: docker-apt-instead-of-apt-get
RUN sudo apt install -y --no-install-recommends git
# rampart-expect: docker-apt-instead-of-apt-get
RUN ["/usr/bin/apt", "install", "-y", "--no-install-recommends", "make"]
