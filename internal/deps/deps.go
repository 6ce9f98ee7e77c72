//go:build tools

// Package deps pins the modules Tributary is built on, so go.mod stays stable
// while packages that use them are written.
//
// github.com/johannesboyne/gofakes3 (the in-process S3 server of sinks/s3
// tests) is pinned by those tests only: its root directory holds a
// "tools"-tagged package main, so importing it under this file's build tag
// would not compile.
package deps

import (
	_ "github.com/go-mysql-org/go-mysql/replication"
	_ "github.com/go-sql-driver/mysql"
	_ "github.com/hamba/avro/v2"
	_ "github.com/hamba/avro/v2/ocf"
	_ "github.com/jackc/pglogrepl"
	_ "github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/jmoiron/sqlx"
	_ "github.com/magiconair/properties"
	_ "github.com/minio/minio-go/v7"
	_ "github.com/minio/minio-go/v7/pkg/credentials"
	_ "github.com/parquet-go/parquet-go"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/shopspring/decimal"
	_ "github.com/twmb/franz-go/pkg/kadm"
	_ "github.com/twmb/franz-go/pkg/kfake"
	_ "github.com/twmb/franz-go/pkg/kgo"
	_ "github.com/twmb/franz-go/pkg/sr"
	_ "github.com/twmb/franz-go/pkg/sr/srfake"
)
