// Order notifications: publishes each order event to the customers' SNS topic.
const { SNSClient, PublishCommand } = require("@aws-sdk/client-sns");

const sns = new SNSClient({});

exports.handler = async (event) => {
  console.log(JSON.stringify(event));
  const order = JSON.parse(event.body);
  await sns.send(
    new PublishCommand({ TopicArn: process.env.TOPIC_ARN, Message: JSON.stringify(order) }),
  );
  return { statusCode: 202, body: "queued" };
};
