# Stand-in for wiremock/wiremock: the standalone jar at the path the manifests name
# (serving.wiremock_jar_path), on a Java image so `java -jar` works there too.
ARG JDK_IMAGE
FROM ${JDK_IMAGE}
ARG JAR_PATH
COPY wiremock-standalone.jar ${JAR_PATH}
