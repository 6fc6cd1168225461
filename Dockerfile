# The web app's runtime image. The app is published on the host first; the build context is that publish
# directory (artifacts/publish/WebApp), and this file is passed to the engine by name. No RUN steps: the offline base
# image (webapp-base:<runtime>-offline) has no shell.
ARG BASE_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0
FROM ${BASE_IMAGE}

WORKDIR /app
COPY . /app/

ENV ASPNETCORE_HTTP_PORTS=8080 \
    DOTNET_RUNNING_IN_CONTAINER=true
EXPOSE 8080
# Numeric, so it works in bases without that user in /etc/passwd.
USER 10001:10001

ARG VERSION=0.0.0
ARG REVISION=unknown
ARG CREATED=1970-01-01T00:00:00Z
ARG SOURCE=
ARG TITLE=WebApp
LABEL org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.title="${TITLE}"

ENTRYPOINT ["dotnet", "WebApp.dll"]
