// Android library module of the trustshot SDK (AAR). UNTESTED on the
// development machine: there is no Android SDK, NDK or Gradle there.
// scripts/build-aar.sh fills src/main/jniLibs (cargo-ndk) and generated/
// (uniffi-bindgen) before `gradle assembleRelease`.
plugins {
    id("com.android.library") version "8.5.2"
    id("org.jetbrains.kotlin.android") version "2.0.21"
}

android {
    namespace = "dev.trustshot"
    compileSdk = 34
    defaultConfig {
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
}

dependencies {
    // uniffi's Kotlin uses JNA; on Android the AAR flavour ships libjnidispatch.
    implementation("net.java.dev.jna:jna:5.14.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.8.0")
}
