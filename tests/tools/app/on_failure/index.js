// The OnFailure destination: logs the invocation record Lambda sends it.
exports.handler = async function(event) {
  console.log("FAILURE RECORD " + JSON.stringify(event));
  return {};
};
