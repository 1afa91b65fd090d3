FROM python:3.12-slim
RUN useradd --uid 10001 app
USER app
RUN pip install --user flask
# Switched back to root for a late step and never switched away.
# rampart-expect: docker-final-stage-runs-as-root
USER root
RUN apt-get update && apt-get install -y --no-install-recommends tini
ENTRYPOINT ["tini", "--", "python", "-m", "app"]
