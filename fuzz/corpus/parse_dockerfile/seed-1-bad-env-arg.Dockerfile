# rampart-expect: docker-secret-in-env-or-arg
ARG NPM_TOKEN=npm_0123456789abcdefghijklmnopqrstuvwxyz
FROM node:20-bookworm
# rampart-expect: docker-secret-in-env-or-arg
ENV DB_PASSWORD=hunter2 APP_ENV=production
# rampart-expect: docker-secret-in-env-or-arg
ENV AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
# rampart-expect: docker-secret-in-env-or-arg
ARG github_token=ghp_abcdefghijklmnopqrstuvwxyz0123456789
# Legacy "ENV key value" form.
# rampart-expect: docker-secret-in-env-or-arg
ENV API_KEY sk-live-0123456789
# rampart-expect: docker-secret-in-env-or-arg
ENV SECRET_KEY_BASE=3f9a7c
ENV MYSQL_DATABASE=app \
    # rampart-expect: docker-secret-in-env-or-arg
    MYSQL_ROOT_PASSWORD=changeme
