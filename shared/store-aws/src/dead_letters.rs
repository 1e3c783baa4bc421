//! The jobs' dead-letter queue (SQS, `JobsDeadLetterQueue` of `template.yaml`): what a schedule,
//! the bucket's rule, the table's stream or an asynchronous invocation could not deliver.
//! `swi jobs replay` receives its messages, works each again, and deletes what it worked.

use aws_sdk_sqs::error::DisplayErrorContext;

/// A message waiting in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its id.
    pub id: String,
    /// The handle that deletes it (this receipt only).
    pub receipt: String,
    /// Its body, as sent.
    pub body: String,
}

/// The queue.
#[derive(Debug, Clone)]
pub struct DeadLetters {
    client: aws_sdk_sqs::Client,
    url: String,
}

fn said(e: &impl std::error::Error) -> String {
    DisplayErrorContext(e).to_string()
}

impl DeadLetters {
    /// The queue at `url`, on the configuration `endpoint` names (LocalStack) or the
    /// environment's.
    pub async fn open(url: &str, endpoint: Option<&str>) -> Self {
        let sdk = crate::sdk_config(endpoint).await;
        DeadLetters {
            client: aws_sdk_sqs::Client::new(&sdk),
            url: url.to_owned(),
        }
    }

    /// Up to 10 messages, hidden from other readers for `hide_secs` while they are worked.
    ///
    /// # Errors
    /// The queue cannot be read, with the service's reason.
    pub async fn receive(&self, hide_secs: i32) -> Result<Vec<DeadLetter>, String> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(10)
            .visibility_timeout(hide_secs)
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(|e| said(&e))?;
        Ok(out
            .messages()
            .iter()
            .map(|m| DeadLetter {
                id: m.message_id().unwrap_or_default().to_owned(),
                receipt: m.receipt_handle().unwrap_or_default().to_owned(),
                body: m.body().unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// Deletes a message worked.
    ///
    /// # Errors
    /// The queue refuses, with the service's reason.
    pub async fn delete(&self, m: &DeadLetter) -> Result<(), String> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(&m.receipt)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| said(&e))
    }

    /// Sends a message (tests and operators putting back what they took out).
    ///
    /// # Errors
    /// The queue refuses, with the service's reason.
    pub async fn send(&self, body: &str) -> Result<(), String> {
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| said(&e))
    }

    /// Makes a queue called `name` (tests on LocalStack) and answers its URL.
    ///
    /// # Errors
    /// The service refuses, with its reason.
    pub async fn create(name: &str, endpoint: Option<&str>) -> Result<String, String> {
        let sdk = crate::sdk_config(endpoint).await;
        let out = aws_sdk_sqs::Client::new(&sdk)
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .map_err(|e| said(&e))?;
        Ok(out.queue_url().unwrap_or_default().to_owned())
    }
}
