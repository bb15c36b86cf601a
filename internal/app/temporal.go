package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"

	"hrss-backoffice/internal/config"
	"hrss-backoffice/internal/payloadcodec"
	"hrss-backoffice/internal/reqid"
)

// Dial connects to the Temporal frontend of cfg with the payload codec
// (nil: payloads in clear), the request-ID propagator and cfg's TLS, and
// retries for up to a minute. A nil logger logs through slog's default.
func Dial(ctx context.Context, cfg config.Config, codec *payloadcodec.Codec, metrics client.MetricsHandler,
	logger sdklog.Logger) (client.Client, error) {
	if logger == nil {
		logger = sdklog.NewStructuredLogger(slog.Default())
	}
	opts := client.Options{HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
		Logger: logger, MetricsHandler: metrics,
		ContextPropagators: []workflow.ContextPropagator{reqid.Propagator{}}}
	opts.ConnectionOptions.GrpcCompression = GrpcCompression(cfg.TemporalCompression)
	// PAYLOAD_KEYS encrypts every payload (docs/reliability.md).
	opts.DataConverter, opts.FailureConverter = payloadcodec.DataConverter(codec), payloadcodec.FailureConverter(codec)
	if err := temporalTLS(cfg, &opts); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := client.DialContext(ctx, opts)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return c, err
		}
		time.Sleep(time.Second)
	}
}

// GrpcCompression is the SDK's setting for TEMPORAL_GRPC_COMPRESSION
// ("gzip", else none).
func GrpcCompression(name string) client.GrpcCompression {
	if name == "gzip" {
		return &client.GrpcCompressionGzip{}
	}
	return &client.GrpcCompressionNone{}
}

// temporalTLS sets up access to a Temporal cluster: an API key (Temporal
// Cloud) implies TLS; a client certificate and key give mutual TLS; a CA
// file pins the server's certificate authority.
func temporalTLS(cfg config.Config, opts *client.Options) error {
	if cfg.TemporalAPIKey == "" && cfg.TemporalTLSCert == "" && cfg.TemporalTLSCA == "" {
		return nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.TemporalTLSName}
	if cfg.TemporalTLSCA != "" {
		pem, err := os.ReadFile(cfg.TemporalTLSCA)
		if err != nil {
			return fmt.Errorf("TEMPORAL_TLS_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("TEMPORAL_TLS_CA: no certificate in %s", cfg.TemporalTLSCA)
		}
		tc.RootCAs = pool
	}
	if cfg.TemporalTLSCert != "" || cfg.TemporalTLSKey != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TemporalTLSCert, cfg.TemporalTLSKey)
		if err != nil {
			return fmt.Errorf("TEMPORAL_TLS_CERT/TEMPORAL_TLS_KEY: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	opts.ConnectionOptions.TLS = tc
	if cfg.TemporalAPIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.TemporalAPIKey)
	}
	return nil
}
