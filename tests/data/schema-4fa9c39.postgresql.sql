-- The tables of enrollbot as released at commit 4fa9c39 (the last release before migrations),
-- as its create_tables() made them on postgresql: SQLModel.metadata.create_all, compiled for postgresql.

CREATE TABLE drafts (
	id SERIAL NOT NULL, 
	chat_id BIGINT NOT NULL, 
	user_id BIGINT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	step VARCHAR(64) NOT NULL, 
	data JSON NOT NULL, 
	history JSON NOT NULL, 
	flow JSON NOT NULL, 
	version INTEGER NOT NULL, 
	last_update_id BIGINT, 
	language VARCHAR(8), 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	reminded_at TIMESTAMP WITH TIME ZONE, 
	PRIMARY KEY (id)
);

CREATE UNIQUE INDEX ix_drafts_one_open_per_chat ON drafts (chat_id) WHERE status = 'open';

CREATE INDEX ix_drafts_status_updated ON drafts (status, updated_at);

CREATE TABLE inbox (
	update_id BIGINT NOT NULL, 
	payload JSON NOT NULL, 
	received_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (update_id)
);

CREATE TABLE notifications (
	id SERIAL NOT NULL, 
	key VARCHAR(128) NOT NULL, 
	chat_id BIGINT NOT NULL, 
	text VARCHAR NOT NULL, 
	reply_markup JSON, 
	status VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	not_before TIMESTAMP WITH TIME ZONE NOT NULL, 
	last_error VARCHAR, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	sent_at TIMESTAMP WITH TIME ZONE, 
	claimed_by VARCHAR(64), 
	claimed_until TIMESTAMP WITH TIME ZONE, 
	PRIMARY KEY (id), 
	UNIQUE (key)
);

CREATE INDEX ix_notifications_status_due ON notifications (status, not_before);

CREATE TABLE outbox (
	id SERIAL NOT NULL, 
	draft_id INTEGER NOT NULL, 
	reference VARCHAR(64) NOT NULL, 
	chat_id BIGINT NOT NULL, 
	user_id BIGINT NOT NULL, 
	language VARCHAR(8) NOT NULL, 
	payload JSON NOT NULL, 
	summary JSON NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	attempts INTEGER NOT NULL, 
	maybe_sent BOOLEAN NOT NULL, 
	next_attempt_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	first_failure_at TIMESTAMP WITH TIME ZONE, 
	lease_owner VARCHAR(64), 
	lease_until TIMESTAMP WITH TIME ZONE, 
	last_error VARCHAR, 
	response_status INTEGER, 
	response_body VARCHAR, 
	coachview_id VARCHAR(64), 
	coachview_nummer VARCHAR(64), 
	payment_url VARCHAR, 
	created_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	submitted_at TIMESTAMP WITH TIME ZONE, 
	PRIMARY KEY (id), 
	UNIQUE (draft_id), 
	UNIQUE (reference)
);

CREATE INDEX ix_outbox_chat_id ON outbox (chat_id);

CREATE INDEX ix_outbox_status_due ON outbox (status, next_attempt_at);

CREATE TABLE people (
	user_id BIGINT NOT NULL, 
	language VARCHAR(8), 
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL, 
	PRIMARY KEY (user_id)
);
