# syntax=docker/dockerfile:1
# logveil: a static, non-root image. Build: docker build --build-arg VERSION=$(git describe --always) -t logveil .

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# The same command is run by TestDockerfileBuild (deploy/deploy_test.go).
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/logveil ./cmd/logveil

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/logveil /usr/local/bin/logveil
COPY deploy/logveil.yaml /etc/logveil/logveil.yaml
USER nonroot:nonroot
EXPOSE 9464
ENTRYPOINT ["/usr/local/bin/logveil"]
CMD ["run", "--config", "/etc/logveil/logveil.yaml"]
