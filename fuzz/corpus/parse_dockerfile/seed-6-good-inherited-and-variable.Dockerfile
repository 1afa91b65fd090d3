ARG APP_UID=10001
FROM node:20-bookworm AS base
RUN useradd --uid 10001 app
USER app

# Inherits USER app from the stage it is built on.
FROM base AS final
COPY . .
CMD ["node", "server.js"]
