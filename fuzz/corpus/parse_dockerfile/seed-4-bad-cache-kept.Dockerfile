FROM alpine:3.19
# rampart-expect: docker-apk-add-without-no-cache
RUN apk add curl
# rampart-expect: docker-apk-add-without-no-cache
RUN apk update && apk add --virtual .build-deps gcc musl-dev
RUN set -eux; \
    # rampart-expect: docker-apk-add-without-no-cache
    apk add --update tini
