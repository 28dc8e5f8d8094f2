package blob

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/axon-hs/axon/internal/config"
)

// s3Timeout bounds each object store call that does not stream content.
const s3Timeout = 30 * time.Second

// S3Store keeps files as objects in an S3-compatible bucket.
type S3Store struct {
	client *minio.Client
	bucket string
	prefix string
}

// NewS3Store connects to the bucket in cfg, creating it if missing.
func NewS3Store(ctx context.Context, cfg config.MediaS3) (*S3Store, error) {
	endpoint, secure := cfg.Endpoint, true
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil {
			return nil, fmt.Errorf("media.s3.endpoint: %w", err)
		}
		endpoint, secure = u.Host, u.Scheme == "https"
	}
	lookup := minio.BucketLookupDNS
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("media.s3: %w", err)
	}
	// A stuck object store must not hold requests forever: bound waiting
	// for each response's headers (bodies stream under the caller's
	// context and Commit's deadline).
	tr.ResponseHeaderTimeout = s3Timeout
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Transport:    tr,
		Secure:       secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
	})
	if err != nil {
		return nil, fmt.Errorf("media.s3: %w", err)
	}
	s := &S3Store{client: client, bucket: cfg.Bucket, prefix: strings.Trim(cfg.Prefix, "/")}
	ctx, cancel := context.WithTimeout(ctx, s3Timeout)
	defer cancel()
	exists, err := client.BucketExists(ctx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("media.s3: bucket %q: %w", cfg.Bucket, err)
	}
	if !exists {
		if err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region}); err != nil {
			return nil, fmt.Errorf("media.s3: create bucket %q: %w", cfg.Bucket, err)
		}
	}
	return s, nil
}

func (s *S3Store) key(sha string) string {
	return path.Join(s.prefix, sha[:2], sha[2:4], sha)
}

func isNoSuchKey(err error) bool {
	return minio.ToErrorResponse(err).Code == minio.NoSuchKey
}

// Commit uploads the spooled file unless the object exists already.
func (s *S3Store) Commit(ctx context.Context, sp *Spooled) error {
	if err := validSHA(sp.SHA256); err != nil {
		return err
	}
	defer sp.Remove()
	statCtx, cancel := context.WithTimeout(ctx, s3Timeout)
	_, err := s.client.StatObject(statCtx, s.bucket, s.key(sp.SHA256), minio.StatObjectOptions{})
	cancel()
	if err == nil {
		return nil
	}
	if !isNoSuchKey(err) {
		return fmt.Errorf("s3 stat: %w", err)
	}
	// Time for the upload: the fixed bound plus 1 s per MiB (1 MiB/s).
	putCtx, cancel := context.WithTimeout(ctx, s3Timeout+time.Duration(sp.Size>>20)*time.Second)
	defer cancel()
	_, err = s.client.FPutObject(putCtx, s.bucket, s.key(sp.SHA256), sp.Path, minio.PutObjectOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return fmt.Errorf("s3 put: %w", err)
	}
	return nil
}

// Open returns the object (read lazily, seekable).
func (s *S3Store) Open(ctx context.Context, sha string) (File, error) {
	if err := validSHA(sha); err != nil {
		return nil, err
	}
	statCtx, cancel := context.WithTimeout(ctx, s3Timeout)
	info, err := s.client.StatObject(statCtx, s.bucket, s.key(sha), minio.StatObjectOptions{})
	cancel()
	if isNoSuchKey(err) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("s3 stat: %w", err)
	}
	obj, err := s.client.GetObject(ctx, s.bucket, s.key(sha), minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("s3 get: %w", err)
	}
	return &s3File{Object: obj, size: info.Size}, nil
}

// Delete removes the object.
func (s *S3Store) Delete(ctx context.Context, sha string) error {
	if err := validSHA(sha); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s3Timeout)
	defer cancel()
	err := s.client.RemoveObject(ctx, s.bucket, s.key(sha), minio.RemoveObjectOptions{})
	if err != nil && !isNoSuchKey(err) {
		return fmt.Errorf("s3 delete: %w", err)
	}
	return nil
}

type s3File struct {
	*minio.Object
	size int64
}

func (f *s3File) Size() int64 { return f.size }
