// Android library module of the trustshot SDK (AAR). UNTESTED on the
// development machine: there is no Android SDK, NDK or Gradle there.
// scripts/build-aar.sh fills src/main/jniLibs (cargo-ndk) and generated/
// (uniffi-bindgen) before `gradle assembleRelease`.
plugins {
    id("com.android.library") version "8.5.2"
    id("org.jetbrains.kotlin.android") version "2.0.21"
    `maven-publish`
}

android {
    namespace = "dev.trustshot"
    compileSdk = 34
    defaultConfig {
        // Android 7.0: packed relocations (the .so is linked with them) need 6.0+.
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }
    sourceSets["main"].apply {
        java.srcDirs("src/main/kotlin", "src/androidMain/kotlin", "generated")
        jniLibs.srcDirs("src/main/jniLibs")
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
    publishing {
        singleVariant("release") { withSourcesJar() }
    }
}

// `gradle publishToMavenLocal` (or a repository of the operator's): the AAR
// with its POM and Gradle module metadata (which carries the dependencies
// above to apps). The version follows CHANGELOG.md's policy (SemVer).
publishing {
    publications {
        register<MavenPublication>("release") {
            groupId = "dev.trustshot"
            artifactId = "trustshot"
            version = "0.1.0"
            afterEvaluate { from(components["release"]) }
            pom {
                name.set("trustshot")
                description.set("On-device identity verification and proof of delivery (Rust core, uniffi bindings)")
                licenses { license { name.set("Apache-2.0") } }
            }
        }
    }
}

dependencies {
    // uniffi's Kotlin uses JNA; on Android the AAR flavour ships libjnidispatch.
    implementation("net.java.dev.jna:jna:5.14.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.8.0")
    // ImageProxy.toTrustshotImage (CameraAdapters.kt): apps that use CameraX have it already.
    compileOnly("androidx.camera:camera-core:1.3.4")
}
