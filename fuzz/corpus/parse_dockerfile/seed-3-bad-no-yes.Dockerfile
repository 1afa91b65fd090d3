FROM debian:12
# rampart-expect: docker-apt-get-install-without-yes
RUN apt-get update && apt-get install --no-install-recommends curl
# DEBIAN_FRONTEND answers debconf, not apt's prompt.
RUN apt-get update \
# rampart-expect: docker-apt-get-install-without-yes
 && DEBIAN_FRONTEND=noninteractive apt-get -q install tzdata
# rampart-expect: docker-apt-get-install-without-yes
RUN apt install -o Debug::pkgProblemResolver=yes git
